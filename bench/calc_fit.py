"""CALC fit benchmark: seconds and final cost per system, against the original's logged results.

    python bench/calc_fit.py                 # integration system + reference systems + macaque systems
    python bench/calc_fit.py --only integration
    python bench/calc_fit.py --ship          # refit and write the specs shipped in anatomy/data/specs/

Writes bench/results/calc_fit.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from brainlike.anatomy.fit import fit_system
from brainlike.anatomy.macaque import macaque_system, ventral_system
from brainlike.anatomy.spec import spec_from_fit
from brainlike.anatomy.system import System, reference_system
from brainlike.anatomy.tables import reference_systems

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = ROOT / "tests" / "fixtures" / "calc" / "integration_system.json"
ORIGINAL_MINIMUM = 0.2599586  # 200,100 Adam steps, 870.8 s (spec section 10)
SHIPPED = {
    "ventral_224": dict(areas=None, pixels=224, miniaturize=25.0),
    "ventral_32": dict(areas=["V1", "V2", "V4"], pixels=32, miniaturize=1000.0),
    "ventral_112": dict(areas=None, pixels=112, pixel_degrees=0.4, miniaturize=400.0),
}


def systems(only: str | None) -> dict[str, System]:
    found = {"integration": System.load(INTEGRATION)}
    found |= {name: reference_system(name) for name in reference_systems()}
    found["ventral"] = ventral_system()
    found["macaque"] = macaque_system()
    return {k: v for k, v in found.items() if only is None or k == only}


def ship() -> None:
    out = ROOT / "src" / "brainlike" / "anatomy" / "data" / "specs"
    for name, options in SHIPPED.items():
        areas = options.pop("areas")
        system = ventral_system(**options) if areas is None else macaque_system(areas, **options)
        result = fit_system(system, max_cumulative_stride=16, best_of=20)
        spec_from_fit(result).save(out / f"{name}.json")
        print(f"{name}: cost {result.total:.6f} in {result.seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only")
    parser.add_argument("--ship", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.ship:
        ship()
        return
    rows = []
    for name, system in systems(args.only).items():
        start = time.perf_counter()
        result = fit_system(system)
        rows.append(
            {
                "system": name,
                "populations": len(system.populations),
                "projections": len(system.projections),
                "cost": result.total,
                "fit_seconds": result.seconds,
                "total_seconds": time.perf_counter() - start,
                "evaluations": result.iterations,
            }
        )
        print(
            f"{name:45s} {rows[-1]['populations']:4d} {rows[-1]['projections']:5d} "
            f"{result.total:12.8f} {result.seconds:8.2f} s",
            flush=True,
        )
    integration = next((r for r in rows if r["system"] == "integration"), None)
    if integration:
        print(
            f"integration: {integration['cost'] - ORIGINAL_MINIMUM:+.2e} from the original's 0.2599586 "
            f"(870.8 s, 200,100 Adam steps)"
        )
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "calc_fit.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
