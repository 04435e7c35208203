"""The full Marques et al. grating panel (blank, RF mapping, orientation, SF, size) per model.

    python bench/v1.py                          # CORnet-S V1, and VOneResNet-50 V1 if it is registered
    python bench/v1.py --models cornet_z --threads 2

Each model runs in its own subprocess (random weights, up to 1,000 protocol-selected units, seed 0)
so that its peak memory (max RSS) is its own. Prints the time split (stimulus rendering / forward /
analysis), the units selected and the peak memory; writes bench/results/v1.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

DEFAULT_MODELS = ["cornet_s", "vonenet_resnet50"]


def run_one(name: str, threads: int, max_units: int, batch_size: int | None, device: str = "cpu") -> dict:
    import torch

    from brainlike import create_model
    from brainlike.analysis.v1 import measure_v1

    torch.set_num_threads(threads)
    torch.manual_seed(0)  # the same random weights on every run
    model = create_model(name).to(device)
    result = measure_v1(model, area="V1", max_units=max_units, seed=0, batch_size=batch_size)
    sel = result.selection
    return {
        "model": name,
        "device": device,
        "area": "V1",
        "step": result.step,
        "threads": threads,
        "batch_size": batch_size or "auto",
        "units_in_area": sel.total_units,
        "units_selected": sel.in_rf,
        "units_measured": len(sel.units),
        "seconds": {k: round(v, 2) for k, v in result.seconds.items()},
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3),
        "groups": {g.group: (None if g.score != g.score else round(g.score, 4)) for g in result.groups},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, help="images per batch (default: sized to the area)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "v1.json"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.threads, args.units, args.batch_size, args.device)))
        return

    from brainlike import list_models

    models = args.models or [m for m in DEFAULT_MODELS if m in list_models()]
    skipped = [m for m in (args.models or DEFAULT_MODELS) if m not in list_models()]
    rows = []
    for name in models:
        command = [
            sys.executable,
            __file__,
            "--one",
            name,
            "--threads",
            str(args.threads),
            "--units",
            str(args.units),
            "--device",
            args.device,
        ]
        if args.batch_size:
            command += ["--batch-size", str(args.batch_size)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            raise SystemExit(f"{name} failed")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))

    header = (
        f"{'model':18s} {'units sel/meas':>15s} {'stimuli s':>10s} {'forward s':>10s} {'analysis s':>11s} "
        f"{'total s':>8s} {'peak GB':>8s}"
    )
    print(header)
    for r in rows:
        s = r["seconds"]
        print(
            f"{r['model']:18s} {r['units_selected']:>7d}/{r['units_measured']:<7d} {s['stimuli']:>10.1f} "
            f"{s['forward']:>10.1f} {s['analysis']:>11.1f} {s['total']:>8.1f} {r['peak_rss_gb']:>8.2f}"
        )
    for name in skipped:
        print(f"{name:18s} not registered; skipped")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": platform.processor() or platform.machine(),
                "cpu_threads": args.threads,
                "runs": rows,
                "skipped": skipped,
            },
            indent=1,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
