"""GPU throughput and accuracy of the fast paths: CORnets, BLT-VS, training steps and extraction.

    python bench/gpu.py [--sections ceilings cornet blt train extract] [--out bench/results/gpu.json]

Needs a CUDA device. Every mode of a model is timed with CUDA events (median of --repeat runs
after warm-up, cuDNN autotuning on) on the same random input; accuracy is measured against the
model's own fp32 output on a batch of --agreement random images (relative logit error and top-1
agreement), and for the CORnets also against a straightforward port of the original forward pass.
Modes: fp32, tf32, bf16 and fp16 autocast, each also in channels_last memory layout.
Prints one table per section and writes JSON (after every section, so a cut-short run keeps what
it measured).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from bench.blt import table  # noqa: E402
from bench.forward import relative_error  # noqa: E402
from bench.ports import port_of  # noqa: E402
from brainlike import create_model  # noqa: E402
from brainlike.analysis.stats import count_flops  # noqa: E402
from brainlike.precision import autocast  # noqa: E402

DEVICE = "cuda"
MODES = ["fp32", "tf32", "bf16", "fp16", "fp32+cl", "bf16+cl", "fp16+cl"]


def cuda_time(fn, repeat: int, warmup: int = 3) -> float:
    """Median seconds of one call of fn, timed with CUDA events (a host clock on the CPU)."""
    for _ in range(warmup):
        fn()
    if DEVICE != "cuda":
        return statistics.median(timed(fn) for _ in range(repeat))
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000)
    return statistics.median(times)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ceilings(repeat: int) -> dict:
    n = 8192
    out = {
        "device_name": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version(),
    }
    for label, dtype, tf32 in (
        ("fp32", torch.float32, False),
        ("tf32", torch.float32, True),
        ("bf16", torch.bfloat16, False),
        ("fp16", torch.float16, False),
    ):
        a = torch.randn(n, n, device=DEVICE, dtype=dtype)
        b = torch.randn(n, n, device=DEVICE, dtype=dtype)
        torch.backends.cuda.matmul.allow_tf32 = tf32
        out[f"matmul_{label}_tflop_s"] = 2 * n**3 / cuda_time(lambda: a @ b, repeat) / 1e12
    torch.backends.cuda.matmul.allow_tf32 = False
    return out


def split_mode(mode: str) -> tuple[str, bool]:
    precision, _, layout = mode.partition("+")
    return precision, layout == "cl"


def run_mode(model, x: torch.Tensor, mode: str, call=None):
    """Run `call(model, x)` (default: model(x)) in `mode`; returns the output."""
    precision, channels_last = split_mode(mode)
    call = call or (lambda m, inp: m(inp))
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), autocast(precision, DEVICE):
        return call(model, x)


def layout(model, mode: str):
    return model.to(memory_format=torch.channels_last if split_mode(mode)[1] else torch.contiguous_format)


def accuracy(outputs: torch.Tensor, reference: torch.Tensor) -> dict:
    return {
        "logit_rel_err": relative_error(outputs.float(), reference),
        "top1_agreement": float((outputs.argmax(1) == reference.argmax(1)).float().mean()),
    }


def bench_cornet(name: str, batches: list[int], agreement: int, repeat: int) -> list[dict]:
    torch.manual_seed(0)
    model = create_model(name).eval().to(DEVICE)
    port = port_of(name).eval().to(DEVICE) if name != "cornet_z" else None
    if port is not None:
        port.load_state_dict(model.state_dict())
    flops, _ = count_flops(model, torch.zeros(1, 3, 224, 224, device=DEVICE))
    probe = torch.randn(agreement, 3, 224, 224, device=DEVICE, generator=torch.Generator(DEVICE).manual_seed(1))
    with torch.no_grad():
        reference = torch.cat([model(chunk) for chunk in probe.split(64)])
    rows = []
    for batch in batches:
        x = torch.randn(batch, 3, 224, 224, device=DEVICE)
        base = None
        if port is not None:
            seconds = cuda_time(lambda: run_mode(port, x, "fp32"), repeat)
            with torch.no_grad():
                port_logits = torch.cat([port(chunk) for chunk in probe.split(64)])
            rows.append(
                {
                    "model": name,
                    "batch": batch,
                    "mode": "port fp32",
                    "img_s": batch / seconds,
                    "tflop_s": flops * batch / seconds / 1e12,
                    **accuracy(port_logits, reference),
                }
            )
        for mode in MODES:
            layout(model, mode)
            seconds = cuda_time(lambda: run_mode(model, x, mode), repeat)
            outputs = torch.cat([run_mode(model, chunk, mode) for chunk in probe.split(64)])
            base = seconds if mode == "fp32" else base
            rows.append(
                {
                    "model": name,
                    "batch": batch,
                    "mode": mode,
                    "img_s": batch / seconds,
                    "tflop_s": flops * batch / seconds / 1e12,
                    "speedup_vs_fp32": base / seconds,
                    **accuracy(outputs, reference),
                }
            )
        layout(model, "fp32")
    return rows


def bench_blt(name: str, batch: int, repeat: int) -> list[dict]:
    torch.manual_seed(0)
    fast = create_model(name).eval().to(DEVICE)
    port = create_model(name, reuse=False).eval().to(DEVICE)
    port.load_state_dict(fast.state_dict())
    size = fast.card.input_size
    x = torch.randn(batch, 3, size, size, device=DEVICE, generator=torch.Generator(DEVICE).manual_seed(0)).clamp(-1, 1)
    flops_port, _ = count_flops(port, x[:1])
    flops_fast, _ = count_flops(fast, x[:1])

    def readouts(m, inp):
        return torch.stack(m.readouts(inp))

    reference = run_mode(fast, x, "fp32", readouts)
    rows = []
    seconds = cuda_time(lambda: run_mode(port, x, "fp32"), repeat)
    port_out = run_mode(port, x, "fp32", readouts)
    rows.append(
        {
            "model": name,
            "batch": batch,
            "mode": "port fp32",
            "gflop_per_image": flops_port / 1e9,
            "img_s": batch / seconds,
            **blt_accuracy(port_out, reference),
        }
    )
    port_seconds = seconds
    base = None
    for mode in MODES:
        layout(fast, mode)
        seconds = cuda_time(lambda: run_mode(fast, x, mode), repeat)
        outputs = run_mode(fast, x, mode, readouts)
        base = seconds if mode == "fp32" else base
        rows.append(
            {
                "model": name,
                "batch": batch,
                "mode": mode,
                "gflop_per_image": flops_fast / 1e9,
                "img_s": batch / seconds,
                "speedup_vs_fp32": base / seconds,
                "speedup_vs_port": port_seconds / seconds,
                **blt_accuracy(outputs, reference),
            }
        )
    layout(fast, "fp32")
    return rows


def blt_accuracy(outputs: torch.Tensor, reference: torch.Tensor) -> dict:
    """Relative error of the first and the last readout, and top-1 agreement of the last."""
    return {
        "first_readout_rel_err": relative_error(outputs[0].float(), reference[0]),
        "logit_rel_err": relative_error(outputs[-1].float(), reference[-1]),
        "top1_agreement": float((outputs[-1].argmax(1) == reference[-1].argmax(1)).float().mean()),
    }


def bench_train(name: str, batch: int, repeat: int) -> list[dict]:
    """Plain training steps (forward, loss over readouts, backward, SGD) per precision and layout."""
    torch.manual_seed(0)
    model = create_model(name).to(DEVICE).train()
    size = model.card.input_size
    x = torch.randn(batch, 3, size, size, device=DEVICE)
    y = torch.randint(0, model.card.num_classes, (batch,), device=DEVICE)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    scaler = torch.amp.GradScaler(DEVICE, enabled=DEVICE == "cuda")
    multi = hasattr(model, "readouts")
    rows, base = [], None
    for mode in [m for m in MODES if m in ("fp32", "tf32", "bf16", "fp16", "bf16+cl")]:
        precision, channels_last = split_mode(mode)
        layout(model, mode)
        inp = x.contiguous(memory_format=torch.channels_last) if channels_last else x

        def step():
            with autocast(precision, DEVICE):
                outputs = model.readouts(inp) if multi else [model(inp)]
                loss = torch.stack([torch.nn.functional.cross_entropy(o.float(), y) for o in outputs]).mean()
            optimizer.zero_grad(set_to_none=True)
            if precision == "fp16":
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                optimizer.step()

        seconds = cuda_time(step, repeat)
        base = base or seconds
        rows.append(
            {"model": name, "batch": batch, "mode": mode, "img_s": batch / seconds, "speedup_vs_fp32": base / seconds}
        )
    layout(model, "fp32")
    return rows


def bench_extract(name: str, images: int, batch: int, workers: int) -> list[dict]:
    """`extract_features` end to end from JPEG files against the pure batched forward on the GPU and the
    original one-image-at-a-time loop (fp32, on the GPU)."""
    from bench.extract import make_jpegs, original_model, original_way
    from brainlike.analysis.features import extract_features

    folder = make_jpegs(Path(tempfile.gettempdir()) / "brainlike-bench-jpegs" / str(images), images)
    paths = sorted(folder.glob("*.jpg"))
    model = create_model(name).eval().to(DEVICE)
    port = original_model(name, model).to(DEVICE)
    original_way(port, paths[:8], DEVICE)  # warm-up
    torch.cuda.synchronize()
    start = time.perf_counter()
    original_way(port, paths, DEVICE)
    original_ips = images / (time.perf_counter() - start)
    rows = []
    for precision in [m for m in MODES if m in ("fp32", "bf16")]:
        x = torch.randn(batch, 3, 224, 224, device=DEVICE)
        seconds = cuda_time(lambda: run_mode(model, x, precision), 5)
        forward_ips = batch / seconds
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            extract_features(
                model,
                paths,
                Path(tmp) / "f.h5",
                pool="avg",
                batch_size=batch,
                workers=workers,
                precision=precision,
                device=DEVICE,
                progress=False,
            )
            extract_ips = images / (time.perf_counter() - start)
        rows.append(
            {
                "model": name,
                "precision": precision,
                "images": images,
                "batch": batch,
                "workers": workers,
                "forward_img_s": forward_ips,
                "original_fp32_img_s": original_ips,
                "extract_img_s": extract_ips,
                "extract_share_of_forward": extract_ips / forward_ips,
                "extract_vs_original": extract_ips / original_ips,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="+", default=["ceilings", "cornet", "blt", "train", "extract"])
    parser.add_argument("--cornets", nargs="+", default=["cornet_z", "cornet_r", "cornet_rt", "cornet_s"])
    parser.add_argument("--batches", nargs="+", type=int, default=[8, 128])
    parser.add_argument("--blt", nargs="+", default=["blt_vs_imagenet", "blt_vs_ecoset"])
    parser.add_argument("--blt-batch", type=int, default=32)
    parser.add_argument("--train", nargs="+", default=["cornet_s", "blt_vs_imagenet_128"])
    parser.add_argument("--train-batch", type=int, default=64)
    parser.add_argument("--extract-images", type=int, default=2048)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--agreement", type=int, default=256, help="random images for top-1 agreement")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--modes", nargs="+", default=MODES, help="a subset of " + " ".join(MODES))
    parser.add_argument("--device", default="cuda", help="cpu only to check the script itself")
    parser.add_argument("--out", default="bench/results/gpu.json")
    args = parser.parse_args()
    global DEVICE
    DEVICE = args.device
    MODES[:] = args.modes
    if DEVICE == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench/gpu.py needs a CUDA device")
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    out, results = Path(args.out), {"args": vars(args)}
    for section in args.sections:
        start = time.perf_counter()
        if section == "ceilings":
            results[section] = ceilings(args.repeat) if DEVICE == "cuda" else {"device": DEVICE}
            print(json.dumps(results[section], indent=1))
        else:
            if section == "cornet":
                rows = [
                    r for name in args.cornets for r in bench_cornet(name, args.batches, args.agreement, args.repeat)
                ]
            elif section == "blt":
                rows = [r for name in args.blt for r in bench_blt(name, args.blt_batch, args.repeat)]
            elif section == "train":
                rows = [r for name in args.train for r in bench_train(name, args.train_batch, max(5, args.repeat // 2))]
            elif section == "extract":
                rows = [
                    r for name in args.cornets[-1:] for r in bench_extract(name, args.extract_images, 64, args.workers)
                ]
            else:
                raise SystemExit(f"unknown section {section!r}")
            results[section] = rows
            print(f"\n## {section}\n{table(rows, digits=4)}", flush=True)
        print(f"({section}: {time.perf_counter() - start:.0f} s)", flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
