"""`brainlike calc build` time for every shipped spec and every example system (fitted first).

    python bench/calc_build.py               # each row: fit seconds (if fitted here), build-summary seconds
    python bench/calc_build.py --skip-fit    # the shipped specs only

The summary comes from the wiring and the convolution arithmetic, never from a forward pass (target:
under 10 s each). Each build runs in a fresh process, as a user's command does, so the times include
importing brainlike. Writes bench/results/calc_build.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from brainlike.anatomy.fit import fit_system
from brainlike.anatomy.spec import spec_from_fit
from brainlike.anatomy.system import reference_system
from brainlike.anatomy.tables import reference_systems

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "src" / "brainlike" / "anatomy" / "data" / "specs"


def build_seconds(network: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "brainlike", "calc", "build", str(network)], capture_output=True, text=True, check=True
    )
    return time.perf_counter() - started, done.stdout.splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-fit", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        networks = {f"shipped {p.stem}": (p, None) for p in sorted(SHIPPED.glob("*.json"))}
        if not args.skip_fit:
            for name in reference_systems():
                started = time.perf_counter()
                spec = spec_from_fit(fit_system(reference_system(name)))
                path = Path(scratch) / f"{name}.json"
                spec.save(path)
                networks[name] = (path, time.perf_counter() - started)
        for name, (path, fit) in networks.items():
            seconds, summary = build_seconds(path)
            rows.append({"network": name, "fit_s": fit, "build_s": round(seconds, 2), "summary": summary})
            print(f"{name:48s} fit {fit or 0:7.2f} s   build {seconds:6.2f} s   {summary.split(': ', 1)[1]}")
    out = ROOT / "bench" / "results" / "calc_build.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
