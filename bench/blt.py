"""BLT-VS and BLT-family forward throughput: FLOPs executed, fp32 images/s, bf16 autocast.

    python bench/blt.py                                  # the four BLT-VS variants + the BLT family
    python bench/blt.py --models blt_vs_imagenet --repeat 2 --bf16-models blt_vs_imagenet_128

For BLT-VS the baseline is a straightforward port: the same model run on the original's schedule
call by call (`reuse=False`, which recomputes what the original recomputes). FLOPs are counted by
FlopCounterMode for one image; timings are the best of `--repeat` interleaved runs (A B A B ...), so
that load on the shared machine hits both alike. bf16 is autocast (`precision="bf16"`), timed only
for the models in --bf16-models because on CPUs without bf16 instructions it can be very slow;
`--probe` also times one convolution of V3's shape in fp32 and bf16 to show where that comes from.
Writes bench/results/blt.json.
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

from bench.forward import interleaved, relative_error  # noqa: E402
from brainlike import create_model, list_models  # noqa: E402
from brainlike.analysis.stats import count_flops  # noqa: E402

BLT_VS = ["blt_vs_imagenet", "blt_vs_ecoset", "blt_vs_imagenet_128", "blt_vs_ecoset_128"]


def worst_error(ours: list[torch.Tensor], theirs: list[torch.Tensor]) -> float:
    return max(relative_error(a, b) for a, b in zip(ours, theirs))


def bench_blt_vs(name: str, batch: int, repeat: int, bf16: bool) -> dict:
    fast = create_model(name).eval()
    port = create_model(name, reuse=False).eval()
    port.load_state_dict(fast.state_dict())
    size = fast.card.input_size
    x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(0)).clamp(-1, 1)
    flops_port, _ = count_flops(port, x[:1])
    flops_fast, _ = count_flops(fast, x[:1])
    with torch.no_grad():
        ref, ours = port.readouts(x), fast.readouts(x)
        best = interleaved({"port": lambda: port(x), "fast": lambda: fast(x)}, repeat)
    row = {
        "model": name,
        "batch": batch,
        "gflops_original": flops_port / 1e9,
        "gflops_executed": flops_fast / 1e9,
        "flop_ratio": flops_port / flops_fast,
        "port_images_per_s": batch / best["port"],
        "fp32_images_per_s": batch / best["fast"],
        "speedup": best["port"] / best["fast"],
        "max_rel_error_vs_port": worst_error(ours, ref),
    }
    row["share_of_flop_ratio"] = row["speedup"] / row["flop_ratio"]
    if bf16:
        # bf16 is timed like fp32: warmed up, interleaved with it, best of `repeat`; and on channels-last
        # input as record() feeds CPUs
        half = create_model(name, precision="bf16").eval()
        half.load_state_dict(fast.state_dict())
        x_cl = x.contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            low = half.readouts(x)
            timed = interleaved(
                {"fast": lambda: fast(x), "bf16": lambda: half(x), "bf16_cl": lambda: half(x_cl)}, repeat
            )
        agree = float((low[-1].argmax(-1) == ours[-1].argmax(-1)).float().mean())
        row |= {
            "bf16_images_per_s": batch / timed["bf16"],
            "bf16_speedup": timed["fast"] / timed["bf16"],
            "bf16_channels_last_speedup": timed["fast"] / timed["bf16_cl"],
            "bf16_max_rel_error": worst_error(low, ours),
            "bf16_top1_agreement": agree,
        }
    return row


def bench_family(name: str, batch: int, repeat: int, bf16: bool) -> dict:
    model = create_model(name).eval()
    size = model.card.input_size
    x = torch.randn(batch, 3, size, size)
    flops, _ = count_flops(model, x[:1])
    with torch.no_grad():
        best = interleaved({"fp32": lambda: model(x)}, repeat)["fp32"]
    row = {"model": name, "batch": batch, "gflops_executed": flops / 1e9, "fp32_images_per_s": batch / best}
    if bf16:
        with torch.no_grad():
            reference = model(x)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                start = time.perf_counter()
                low = model(x)
                seconds = time.perf_counter() - start
        row |= {
            "bf16_images_per_s": batch / seconds,
            "bf16_speedup": best / seconds,
            "bf16_max_rel_error": relative_error(low.float(), reference),
        }
    return row


def conv_probe(repeat: int) -> dict:
    """One conv of V3's shape (480 -> 352, 5x5, 28x28, batch 2): fp32 vs bf16, oneDNN on and off."""
    conv = torch.nn.Conv2d(480, 352, 5, padding=2).eval()
    x = torch.randn(2, 480, 28, 28)
    flops = 2 * 2 * 480 * 352 * 25 * 28 * 28
    result = {}
    with torch.no_grad():
        for label, enabled in (("onednn", True), ("native", False)):
            with torch.backends.mkldnn.flags(enabled=enabled):
                fp32 = interleaved({"f": lambda: conv(x)}, repeat)["f"]
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    start = time.perf_counter()
                    conv(x)
                    bf16 = time.perf_counter() - start
            result[label] = {"fp32_gflops_per_s": flops / fp32 / 1e9, "bf16_gflops_per_s": flops / bf16 / 1e9}
    return result


def table(rows: list[dict], columns: list[str] | None = None, digits: int = 3) -> str:
    """A Markdown table of `rows` (columns: all keys, in order of appearance, unless given)."""
    columns = columns or list(dict.fromkeys(c for r in rows for c in r))

    def fmt(v):
        return f"{v:.{digits}g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "—")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=BLT_VS)
    parser.add_argument("--family", nargs="*", default=None, help="BLT-family models (default: all)")
    parser.add_argument(
        "--bf16-models", nargs="*", default=["blt_vs_imagenet_128", "b_net_32", "bl_net_32", "bt_net_32", "blt_net_32"]
    )
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--family-batch", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--probe", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "blt.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    family = list_models("*_net_*") if args.family is None else args.family

    rows = []
    for name in args.models:
        rows.append(bench_blt_vs(name, args.batch, args.repeat, name in args.bf16_models))
        print(table(rows[-1:], list(rows[-1])), flush=True)
    family_rows = [bench_family(n, args.family_batch, args.repeat, n in args.bf16_models) for n in family]
    result = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.processor(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "blt_vs": rows,
        "family": family_rows,
    }
    if args.probe:
        result["conv_probe"] = conv_probe(args.repeat)
    print("\nBLT-VS (batch %d, %d threads; port = the original's schedule)" % (args.batch, args.threads))
    print(
        table(
            rows,
            [
                "model",
                "gflops_original",
                "gflops_executed",
                "flop_ratio",
                "port_images_per_s",
                "fp32_images_per_s",
                "speedup",
                "share_of_flop_ratio",
                "max_rel_error_vs_port",
                "bf16_images_per_s",
                "bf16_speedup",
                "bf16_channels_last_speedup",
                "bf16_max_rel_error",
                "bf16_top1_agreement",
            ],
        )
    )
    print("\nBLT family (batch %d)" % args.family_batch)
    print(table(family_rows, ["model", "gflops_executed", "fp32_images_per_s", "bf16_images_per_s", "bf16_speedup"]))
    if args.probe:
        print("\nconv probe (GFLOP/s):", json.dumps(result["conv_probe"]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
