"""Linear CKA between two large feature sets: seconds and peak memory of `compare_models`.

Two (stimuli x features) float32 sets are written to HDF5 files (uncompressed, in 1024 x 1024 chunks), the
second a noisy copy of the first; a fresh process restricted to --threads cores then computes linear CKA
between them with `brainlike.analysis.similarity.compare_models`, reading the features in blocks of columns,
and reports its wall time and peak resident memory (ru_maxrss), also as the part the computation adds to
the process after its imports (torch, loaded by `import brainlike`, alone maps ~0.7 GB). The target of
issue #24: 10,000 stimuli x 25,088 features (CORnet IT without pooling) within 2 GB and under a minute on
2 cores; `met` counts the computation's memory, `met_with_imports` the whole process.

    .venv/bin/python bench/cka.py                       # the target size (writes 2 GB of features once)
    .venv/bin/python bench/cka.py --stimuli 500 --features 2000 --tag tiny
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESULTS = Path(__file__).parent / "results"
CHUNK = (1024, 1024)
TARGET_SECONDS, TARGET_GB = 60.0, 2.0


def write_features(path: Path, stimuli: int, features: int, *, noisy_copy: bool) -> Path:
    """Seeded features, written a band of rows at a time (the file is reused when it exists)."""
    import h5py

    if path.exists():
        return path
    partial = path.with_suffix(".part")
    with h5py.File(partial, "w") as handle:
        chunks = (min(CHUNK[0], stimuli), min(CHUNK[1], features))
        data = handle.create_dataset("x", shape=(stimuli, features), dtype="float32", chunks=chunks)
        for lo in range(0, stimuli, CHUNK[0]):
            hi = min(lo + CHUNK[0], stimuli)
            band = np.random.default_rng(lo).standard_normal((hi - lo, features), dtype=np.float32)
            if noisy_copy:
                band += np.random.default_rng(10**9 + lo).standard_normal(band.shape, dtype=np.float32)
            data[lo:hi] = band
    partial.replace(path)
    return path


def child(a: str, b: str, memory_gb: float) -> None:
    """Runs in the measured process: CKA between the two files, then one JSON line on stdout."""
    import h5py

    from brainlike.analysis.similarity import compare_models

    def peak_gb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30

    imported = peak_gb()
    started = time.perf_counter()
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        result = compare_models({"x": fa["x"]}, {"y": fb["x"]}, bootstrap=0, memory_gb=memory_gb, progress=False)
    seconds = time.perf_counter() - started
    print(
        json.dumps({"seconds": seconds, "peak_gb": peak_gb(), "import_gb": imported, "cka": float(result.values[0, 0])})
    )


def measure(a: Path, b: Path, threads: int, memory_gb: float) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
    cores = sorted(os.sched_getaffinity(0))[:threads]
    command = [sys.executable, __file__, "--child", str(a), str(b), "--memory-gb", str(memory_gb)]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, check=True, preexec_fn=lambda: os.sched_setaffinity(0, cores)
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stimuli", type=int, default=10_000)
    parser.add_argument("--features", type=int, default=25_088)
    parser.add_argument("--threads", type=int, default=2, help="cores the measured process may use (default 2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the fastest is kept")
    parser.add_argument("--memory-gb", type=float, default=2.0, help="compare_models' memory budget")
    parser.add_argument("--scratch", help="folder for the feature files (default: the temporary folder)")
    parser.add_argument("--tag", default="", help="results go to bench/results/cka[-TAG].json")
    parser.add_argument("--child", nargs=2, metavar=("A", "B"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.memory_gb)
        return
    folder = Path(args.scratch or tempfile.gettempdir()) / f"brainlike-bench-cka-{args.stimuli}x{args.features}"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"writing features to {folder} (kept for the next run)", flush=True)
    a = write_features(folder / "a.h5", args.stimuli, args.features, noisy_copy=False)
    b = write_features(folder / "b.h5", args.stimuli, args.features, noisy_copy=True)
    runs = [measure(a, b, args.threads, args.memory_gb) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    peak, imported = max(r["peak_gb"] for r in runs), max(r["import_gb"] for r in runs)
    row = {
        "stimuli": args.stimuli,
        "features": args.features,
        "threads": args.threads,
        "seconds": round(best["seconds"], 2),
        "peak_gb": round(peak, 3),
        "import_gb": round(imported, 3),
        "compute_gb": round(peak - imported, 3),
        "cka": best["cka"],
        "target": f"< {TARGET_SECONDS:g} s, < {TARGET_GB:g} GB",
        "met": best["seconds"] < TARGET_SECONDS and peak - imported < TARGET_GB,
        "met_with_imports": best["seconds"] < TARGET_SECONDS and peak < TARGET_GB,
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }
    header = ["stimuli", "features", "threads", "seconds", "peak_gb", "import_gb", "compute_gb", "cka", "target", "met"]
    print(" | ".join(header))
    print(" | ".join(str(row[k]) for k in header))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"cka{'-' + args.tag if args.tag else ''}.json"
    out.write_text(json.dumps(row, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
