"""Throughput and peak memory of `brainlike extract` against the forward pass it wraps.

For each model and precision, on the same JPEG files:
  (a) forward   pure batched forward on tensors already in memory, as a user calls model(x)
  (a') fast     the same forward on channels-last tensors, as record() runs it on CPUs (the ceiling for
                extraction)
  (b) original  one image at a time: decode, resize, batch-1 forward of the original code (bench/ports.py),
                hooks copy each area to numpy
  (c) extract   extract_features(): DataLoader decoding + record() + avg-pool + HDF5 writer (in a background
                thread where a core is free), with the default number of decode workers (`decode_workers`)
                unless --workers is given
The four are interleaved (a a' b c a a' b c ...) --repeat times and the best of each is kept, so load on a
shared machine hits them alike. Peak memory of `brainlike extract` is measured in a fresh process at two
stimulus counts (--memory-images).

    .venv/bin/python bench/extract.py --images 64 --models cornet_z cornet_s --precisions fp32 bf16
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.forward import interleaved  # noqa: E402
from bench.ports import port_of  # noqa: E402
from brainlike import create_model  # noqa: E402
from brainlike.analysis.features import extract_features  # noqa: E402
from brainlike.precision import autocast  # noqa: E402
from brainlike.runtime.devices import decode_workers  # noqa: E402
from brainlike.transforms import IMAGENET_MEAN, IMAGENET_STD, load_images  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def make_jpegs(folder: Path, count: int, size: int = 256) -> Path:
    """Smooth random colour images with noise, so JPEG decoding does real work.

    Image i depends on i only, and each file appears by rename once written, so an interrupted run leaves
    no truncated JPEG and the next run adds just the missing ones.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ramp = np.linspace(0, 1, size)
    for i in range(count):
        path = folder / f"{i:06d}.jpg"
        if path.exists():
            continue
        rng = np.random.default_rng(i)
        a, b, c = rng.uniform(0, 255, size=(3, 3))
        base = a[:, None, None] * ramp[None, :, None] + b[:, None, None] * ramp[None, None, :] + c[:, None, None]
        pixels = np.clip(base.transpose(1, 2, 0) / 2 + rng.normal(0, 20, size=(size, size, 3)), 0, 255)
        partial = path.with_suffix(".part")
        Image.fromarray(pixels.astype(np.uint8)).save(partial, format="JPEG", quality=90)
        partial.replace(path)
    return folder


def pure_forward(model, x: torch.Tensor, batch_size: int, precision: str) -> None:
    with torch.no_grad(), autocast(precision):
        for lo in range(0, len(x), batch_size):
            model(x[lo : lo + batch_size])


def original_model(name: str, model: torch.nn.Module) -> torch.nn.Module:
    """The original forward pass with the same weights: bench/ports.py's port where brainlike's differs."""
    try:
        port = port_of(name)
    except KeyError:
        return model
    port.load_state_dict(model.state_dict())
    return port.eval()


def original_way(model, paths: list[Path], device: str = "cpu") -> None:
    """The CORnet repository's extraction loop: one image, hooks on each area, numpy copies."""
    captured = {}
    hooks = [
        getattr(model, area).register_forward_hook(
            lambda _m, _i, out, area=area: captured.__setitem__(area, out.cpu().numpy().mean(axis=(2, 3)))
        )
        for area in ("V1", "V2", "V4", "IT")
    ]
    mean, std = np.array(IMAGENET_MEAN), np.array(IMAGENET_STD)
    rows = []
    try:
        for path in paths:
            image = Image.open(path).convert("RGB").resize((224, 224), Image.BILINEAR)
            x = torch.from_numpy(((np.asarray(image) / 255.0 - mean) / std).transpose(2, 0, 1)).float()[None]
            with torch.no_grad():
                model(x.to(device))
            rows.append(dict(captured))
    finally:
        for hook in hooks:
            hook.remove()


def end_to_end(model, folder: Path, batch_size: int, workers: int, precision: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        extract_features(
            model,
            folder,
            Path(tmp) / "f.h5",
            pool="avg",
            batch_size=batch_size,
            workers=workers,
            precision=precision,
            progress=False,
        )


def peak_memory(name: str, folder: Path, batch_size: int, workers: int) -> dict:
    """Run `brainlike extract` in a fresh process; its peak RSS and its decode workers' peak (None without
    workers: getrusage would report a helper process forked from the large parent), in MiB.

    The process's own peak is VmHWM (Linux), not getrusage's ru_maxrss: Linux carries ru_maxrss across
    exec, so a process started by this (large) benchmark would report the benchmark's size.
    """
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            "extract",
            name,
            str(folder),
            "-o",
            str(Path(tmp) / "f.h5"),
            "--pretrained",
            "false",
            "--batch-size",
            str(batch_size),
            "--workers",
            str(workers),
        ]
        code = (
            "import resource, sys, time, torch; from brainlike.cli import main;"
            f"torch.set_num_threads({torch.get_num_threads()}); t = time.perf_counter();"
            f"assert main({command!r}) == 0; t = time.perf_counter() - t;"
            "hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'));"
            "print(t, hwm, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)"
        )
        done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    seconds, main_kib, child_kib = done.stderr.split()[-3:]
    return {
        "images": len(list(folder.glob("*.jpg"))),
        "seconds": round(float(seconds), 1),
        "peak_rss_mib": round(int(main_kib) / 1024, 1),
        "peak_worker_rss_mib": round(int(child_kib) / 1024, 1) if workers else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--models", nargs="+", default=["cornet_z", "cornet_s"])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, help="decode workers (default: extract's own choice)")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved timed rounds after one warm-up")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--memory-images", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--memory-model", default="cornet_z")
    parser.add_argument("--tag", default="", help="results go to bench/results/extract[-TAG].json")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "brainlike-bench-jpegs")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    workers = decode_workers() if args.workers is None else args.workers

    folder = make_jpegs(args.cache / str(args.images), args.images)
    paths = sorted(folder.glob("*.jpg"))

    rows = []
    for name in args.models:
        torch.manual_seed(0)
        model = create_model(name).eval()
        x = load_images(paths)
        x_fast = x.contiguous(memory_format=torch.channels_last)
        port = original_model(name, model)
        for precision in args.precisions:
            best = interleaved(
                {
                    "forward": partial(pure_forward, model, x, args.batch_size, precision),
                    "fast": partial(pure_forward, model, x_fast, args.batch_size, precision),
                    "original": partial(original_way, port, paths),
                    "extract": partial(end_to_end, model, folder, args.batch_size, workers, precision),
                },
                args.repeat,
            )
            forward, fast, original, extract = (
                len(paths) / best[k] for k in ("forward", "fast", "original", "extract")
            )
            rows.append(
                {
                    "model": name,
                    "precision": precision,
                    "forward_img_s": round(forward, 2),
                    "fast_forward_img_s": round(fast, 2),
                    "original_img_s": round(original, 2),
                    "extract_img_s": round(extract, 2),
                    "extract_vs_forward": round(extract / forward, 3),
                    "extract_vs_fast_forward": round(extract / fast, 3),
                    "extract_vs_original": round(extract / original, 2),
                }
            )
            print(rows[-1], flush=True)

    memory = []
    for count in args.memory_images:
        memory.append(
            peak_memory(args.memory_model, make_jpegs(args.cache / str(count), count), args.batch_size, workers)
        )
        print(memory[-1], flush=True)

    header = (
        f"{'model':10} {'prec':5} {'(a) forward':>12} {'(a_) fast':>10} {'(b) original':>13} {'(c) extract':>12} "
        f"{'c/a':>6} {'c/a_':>6} {'c/b':>6}"
    )
    print(
        "\nimages/s, " + f"{args.images} JPEGs, batch {args.batch_size}, {workers} decode worker(s), "
        f"{args.threads} threads; a_ = forward on channels-last input, as record() runs it\n" + header
    )
    for r in rows:
        print(
            f"{r['model']:10} {r['precision']:5} {r['forward_img_s']:12.2f} {r['fast_forward_img_s']:10.2f} "
            f"{r['original_img_s']:13.2f} {r['extract_img_s']:12.2f} {r['extract_vs_forward']:6.2f} "
            f"{r['extract_vs_fast_forward']:6.2f} {r['extract_vs_original']:6.2f}"
        )
    if memory:
        print(
            f"\npeak memory of extract ({args.memory_model}, avg pool)\n{'images':>8} {'seconds':>8} "
            f"{'main MiB':>9} {'worker MiB':>11}"
        )
        for m in memory:
            worker = "-" if m["peak_worker_rss_mib"] is None else f"{m['peak_worker_rss_mib']:.1f}"
            print(f"{m['images']:8} {m['seconds']:8.1f} {m['peak_rss_mib']:9.1f} {worker:>11}")

    RESULTS.mkdir(exist_ok=True)
    result = {
        "settings": {
            **{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "decode_workers": workers,
        },
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "torch": torch.__version__,
            "load_average": os.getloadavg(),
        },
        "throughput": rows,
        "memory": memory,
    }
    (RESULTS / f"extract{'-' + args.tag if args.tag else ''}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
