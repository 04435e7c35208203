"""LocallyConnected2d forward+backward time and peak memory against the direct (naive) formulation.

The naive version broadcasts the (B, 1, in, H, W, k*k) patches against the (1, out, in, H, W, k*k)
weight and sums, as the original code does, which materialises a (B, out, in, H, W, k*k) tensor.
Published size: 64 -> 64 channels, 16x16 output, 3x3 kernel, padding 1 (layer1 of the V1 ResNets).

Peak memory on CPU is the rise of the process's peak RSS over fwd+bwd, measured in a fresh process
per implementation; on CUDA it is torch.cuda.max_memory_allocated above the allocation before.

    .venv/bin/python bench/local_connected.py --batch 16 --repeats 3
    .venv/bin/python bench/local_connected.py --device cuda --batch 128
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from brainlike.layers.local import LocallyConnected2d

RESULTS = Path(__file__).parent / "results"
CHANNELS, SIZE, KERNEL = 64, 16, 3


def naive(x: torch.Tensor, weight: torch.Tensor, k: int = KERNEL, padding: int = 1) -> torch.Tensor:
    patches = F.pad(x, (padding,) * 4).unfold(2, k, 1).unfold(3, k, 1).flatten(-2)  # (B, in, H, W, k*k)
    return (patches.unsqueeze(1) * weight).sum(dim=(2, -1))


def _peak_rss_bytes() -> int:
    # ru_maxrss is in KiB on Linux and bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def measure(impl: str, batch: int, repeats: int, device: str) -> dict:
    """Time and peak memory of fwd+bwd of one implementation (call in a fresh process on CPU)."""
    torch.manual_seed(0)
    layer = LocallyConnected2d(CHANNELS, CHANNELS, output_size=SIZE, kernel_size=KERNEL, padding=1).to(device)
    x = torch.randn(batch, CHANNELS, SIZE, SIZE, device=device, requires_grad=True)

    def step():
        y = layer(x) if impl == "lean" else naive(x, layer.weight)
        y.square().mean().backward()
        layer.weight.grad = x.grad = None

    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        before = _peak_rss_bytes()
    step()  # warm-up; its peak is the peak of every step
    if cuda:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - before
    else:
        peak = _peak_rss_bytes() - before
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return {"impl": impl, "batch": batch, "device": device, "seconds": min(times), "peak_bytes": peak}


def run_isolated(impl: str, args) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        impl,
        "--batch",
        str(args.batch),
        "--repeats",
        str(args.repeats),
        "--device",
        args.device,
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", choices=["lean", "naive"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.worker:
        print(json.dumps(measure(args.worker, args.batch, args.repeats, args.device)))
        return

    rows = [run_isolated(impl, args) for impl in ("naive", "lean")]
    naive_row, lean_row = rows
    print(
        f"LocallyConnected2d {CHANNELS}->{CHANNELS} ch, {SIZE}x{SIZE}, {KERNEL}x{KERNEL}, batch {args.batch}, "
        f"{args.device}, fwd+bwd"
    )
    print(f"{'implementation':<16}{'time (ms)':>12}{'peak memory (MiB)':>20}")
    for row in rows:
        print(f"{row['impl']:<16}{row['seconds'] * 1e3:>12.1f}{row['peak_bytes'] / 2**20:>20.1f}")
    memory_ratio = naive_row["peak_bytes"] / max(lean_row["peak_bytes"], 1)
    speedup = naive_row["seconds"] / lean_row["seconds"]
    print(f"lean uses {memory_ratio:.1f}x less peak memory and is {speedup:.1f}x faster")

    RESULTS.mkdir(exist_ok=True)
    tag = "cuda" if args.device.startswith("cuda") else "cpu"
    out = RESULTS / f"local_connected_{tag}.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "LocallyConnected2d fwd+bwd",
                "channels": CHANNELS,
                "size": SIZE,
                "kernel": KERNEL,
                "batch": args.batch,
                "device": args.device,
                "threads": args.threads,
                "torch": torch.__version__,
                "machine": platform.platform(),
                "results": rows,
                "memory_ratio": memory_ratio,
                "speedup": speedup,
                "gpu": torch.cuda.get_device_name() if tag == "cuda" else None,
            },
            indent=1,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
