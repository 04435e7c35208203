"""Forward and train-step throughput of the CORnets, against straightforward ports of the originals.

    python bench/forward.py [--models cornet_z cornet_s] [--repeat 3] [--out bench/results/forward.json]

At batch 8 it also times brainlike with its fast paths forced off (BRAINLIKE_FAST_PATHS=off) against the
measured choice, bf16 on channels-last input, and prints which route each fast path took on this machine.

Prints a table and writes JSON with the torch version, thread count and a matmul ceiling measured in
the same run. Timings of two implementations are interleaved (A B A B ...) so that load on a shared
machine affects both alike; the best of the repeats is reported.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ports import port_of  # noqa: E402
from brainlike import create_model  # noqa: E402
from brainlike.analysis.stats import count_flops  # noqa: E402
from brainlike.kernels import calibration  # noqa: E402
from brainlike.precision import autocast  # noqa: E402


def best_time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(fns: dict, repeat: int) -> dict[str, float]:
    for fn in fns.values():
        fn()
    best = {k: float("inf") for k in fns}
    for _ in range(repeat):
        for key, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[key] = min(best[key], time.perf_counter() - start)
    return best


def matmul_ceiling(dtype=torch.float32, n: int = 2048, repeat: int = 5) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    return 2 * n**3 / best_time(lambda: a @ b, repeat) / 1e9


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).norm() / b.double().norm())


def bench_model(name: str, repeat: int, train: bool, bf16: bool) -> dict:
    torch.manual_seed(0)
    model = create_model(name).eval()
    flops, _ = count_flops(model, torch.zeros(1, 3, 224, 224))
    row = {"model": name, "gflop_per_image": flops / 1e9}
    with torch.no_grad():
        for batch in (1, 8, 32):
            x = torch.randn(batch, 3, 224, 224)
            row[f"fp32_b{batch}_img_s"] = batch / best_time(lambda: model(x), repeat)
        x = torch.randn(8, 3, 224, 224)
        x_cl = x.contiguous(memory_format=torch.channels_last)
        fns = {"fp32": lambda: model(x), "fp32_off": lambda: _fast_paths_off(model, x)}
        if bf16:
            fns["bf16"] = lambda: _bf16(model, x)
            fns["bf16_cl"] = lambda: _bf16(model, x_cl)
        port = port_of(name).eval()
        port.load_state_dict(model.state_dict())
        fns["port"] = lambda: port(x)
        best = interleaved(fns, repeat)
        logits = model(x)
        row["fp32_b8_img_s"] = 8 / best["fp32"]
        row["fp32_b8_gflop_s"] = flops * 8 / best["fp32"] / 1e9
        row["fast_paths_vs_off"] = best["fp32_off"] / best["fp32"]
        if bf16:
            row["bf16_b8_img_s"] = 8 / best["bf16"]
            row["bf16_speedup"] = best["fp32"] / best["bf16"]
            row["bf16_cl_speedup"] = best["fp32"] / best["bf16_cl"]
            bf16_logits = _bf16(model, x).float()
            row["bf16_logit_rel_err"] = relative_error(bf16_logits, logits)
            row["bf16_top1_agreement"] = float((bf16_logits.argmax(1) == logits.argmax(1)).float().mean())
        row["port_b8_img_s"] = 8 / best["port"]
        row["ours_vs_port"] = best["port"] / best["fp32"]
        row["port_logit_rel_err"] = relative_error(logits, port(x))
    if train:
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x, y = torch.randn(32, 3, 224, 224), torch.randint(0, 1000, (32,))

        def step():
            optimizer.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()

        row["train_fp32_b32_img_s"] = 32 / best_time(step, max(1, repeat // 2))
    return row


def _bf16(model, x):
    with autocast("bf16"):
        return model(x)


def _fast_paths_off(model, x):
    with calibration.forced("off"):
        return model(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["cornet_z", "cornet_r", "cornet_rt", "cornet_s"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-train", action="store_true", help="skip the (slow) train-step measurement")
    parser.add_argument(
        "--bf16",
        nargs="*",
        default=["cornet_z", "cornet_s"],
        metavar="MODEL",
        help="models to time under bf16 autocast (slow where the CPU lacks bf16 arithmetic)",
    )
    parser.add_argument("--out", default="bench/results/forward.json")
    args = parser.parse_args()

    env = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "matmul_fp32_gflop_s": matmul_ceiling(),
        "matmul_bf16_gflop_s": matmul_ceiling(torch.bfloat16, n=1024, repeat=2),
    }
    print(
        f"torch {env['torch']}, {env['threads']} threads; matmul ceiling fp32 {env['matmul_fp32_gflop_s']:.0f} "
        f"GFLOP/s, bf16 {env['matmul_bf16_gflop_s']:.0f} GFLOP/s"
    )
    rows = [bench_model(name, args.repeat, not args.no_train, name in args.bf16) for name in args.models]
    columns = [
        "model",
        "gflop_per_image",
        "fp32_b1_img_s",
        "fp32_b8_img_s",
        "fp32_b32_img_s",
        "fp32_b8_gflop_s",
        "port_b8_img_s",
        "ours_vs_port",
        "port_logit_rel_err",
        "fast_paths_vs_off",
        "bf16_b8_img_s",
        "bf16_speedup",
        "bf16_cl_speedup",
        "bf16_logit_rel_err",
        "bf16_top1_agreement",
        "train_fp32_b32_img_s",
    ]
    print(" | ".join(columns))
    for row in rows:
        print(" | ".join(f"{row[c]:.4g}" if isinstance(row.get(c), float) else str(row.get(c, "—")) for c in columns))
    chosen = [
        {"path": d.path, "shape_class": list(d.shape_class), "threads": d.threads, "chosen": d.chosen, **d.seconds}
        for d in calibration.decisions()
    ]
    print("fast path | shape class | threads | chosen | seconds per route")
    for d in chosen:
        times = ", ".join(
            f"{k} {d[k] * 1e3:.2f} ms" for k in d if k not in ("path", "shape_class", "threads", "chosen")
        )
        print(f"{d['path']} | {d['shape_class']} | {d['threads']} | {d['chosen']} | {times}")
    env["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"environment": env, "results": rows, "fast_paths": chosen}, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
