"""What `runtime.allocator.keep_freed_memory()` (on in the `brainlike` command) buys per forward pass.

    python bench/allocator.py [--models vonenet_resnet50,cornet_s,torchvision:resnet50,blt_vs_ecoset]
                              [--batch 8] [--rounds 3] [--repeat 5] [--out bench/results/allocator.json]

The setting is process-wide and cannot be taken back once memory has been reused, so each measurement is
a child process: malloc as glibc sets it (BRAINLIKE_MALLOC=system) or with the thresholds raised. The
two kinds alternate (system, kept, kept, system, ...) over `rounds`, so that load on a shared machine
affects both alike. A child builds the model (random weights, eval, no gradients), runs one warm-up
pass and reports the best of `repeat` timed passes of a (batch, 3, size, size) input at the card's size,
and its peak resident memory (VmHWM). The table gives the median over rounds of each kind.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, time, torch
from brainlike import create_model
from brainlike.runtime.allocator import keep_freed_memory
kept = keep_freed_memory()
name, batch, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(0)
model = create_model(name).eval()
size = model.card.input_size
x = torch.rand(batch, 3, size, size)
times = []
with torch.no_grad():
    model(x)
    for _ in range(repeat):
        start = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - start)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"kept": kept, "best_s": min(times), "size": size, "peak_gb": hwm / 2**20}))
"""


def child(name: str, kept: bool, batch: int, repeat: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    if kept:
        env.pop("BRAINLIKE_MALLOC", None)
    else:
        env["BRAINLIKE_MALLOC"] = "system"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, name, str(batch), str(repeat)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["kept"] != kept:
        raise SystemExit(f"{name}: the child's allocator setting is {result['kept']}, expected {kept}")
    return result


def cpu_model() -> str:
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="vonenet_resnet50,cornet_s,torchvision:resnet50,blt_vs_ecoset")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default="bench/results/allocator.json")
    args = parser.parse_args()

    rows = []
    capability = torch.backends.cpu.get_cpu_capability()
    print(f"batch {args.batch}, {torch.get_num_threads()} threads, {cpu_model()}, {capability}")
    print(f"{'model':22s} {'system s':>9s} {'kept s':>8s} {'speed-up':>9s} {'peak GB system':>15s} {'kept':>6s}")
    for name in args.models.split(","):
        runs: dict[bool, list[dict]] = {False: [], True: []}
        for r in range(args.rounds):
            order = (False, True) if r % 2 == 0 else (True, False)
            for kept in order:
                runs[kept].append(child(name, kept, args.batch, args.repeat))
        system = statistics.median(run["best_s"] for run in runs[False])
        kept = statistics.median(run["best_s"] for run in runs[True])
        peaks = {k: max(run["peak_gb"] for run in v) for k, v in runs.items()}
        rows.append(
            {
                "model": name,
                "input_size": runs[True][0]["size"],
                "system_s": system,
                "kept_s": kept,
                "speedup": system / kept,
                "peak_gb_system": peaks[False],
                "peak_gb_kept": peaks[True],
                "all_s": {"system": [x["best_s"] for x in runs[False]], "kept": [x["best_s"] for x in runs[True]]},
            }
        )
        print(f"{name:22s} {system:9.3f} {kept:8.3f} {system / kept:8.2f}x {peaks[False]:15.2f} {peaks[True]:6.2f}")
    payload = {
        "machine": {
            "cpu": cpu_model(),
            "capability": torch.backends.cpu.get_cpu_capability(),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "glibc": platform.libc_ver()[1],
        },
        "batch": args.batch,
        "rounds": args.rounds,
        "repeat": args.repeat,
        "rows": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
