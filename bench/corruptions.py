"""Corrupted images per second: the per-image reference and, where one exists, the batched version.

    python bench/corruptions.py [--size 224] [--images 32] [--severity 3] [--out bench/results/corruptions.json]

Images are the embedded photos resized to size x size. Each corruption's reference is timed after a
warm-up call (glass blur compiles with numba on first use).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from brainlike.analysis.corruptions import BATCHED, CORRUPTIONS, corrupt, corrupt_batch  # noqa: E402
from brainlike.data.photos import embedded_photos  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--severity", type=int, default=3)
    parser.add_argument("--out", default="bench/results/corruptions.json")
    args = parser.parse_args()

    photos = [np.array(p.resize((args.size, args.size))) for p in embedded_photos().values()]
    images = [photos[i % len(photos)] for i in range(args.images)]
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    seeds = list(range(args.images))
    rows = []
    print(f"{args.images} images of {args.size} px, severity {args.severity}, torch threads {torch.get_num_threads()}")
    print(f"{'corruption':18s} {'reference img/s':>16s} {'batched img/s':>14s} {'speed-up':>9s}")
    for name in CORRUPTIONS:
        corrupt(images[0], name, args.severity, seed=0)
        start = time.perf_counter()
        for image, seed in zip(images, seeds):
            corrupt(image, name, args.severity, seed=seed)
        reference = args.images / (time.perf_counter() - start)
        row = {"corruption": name, "reference_img_s": reference}
        if name in BATCHED:
            corrupt_batch(batch[:2], name, args.severity, seeds[:2])
            start = time.perf_counter()
            corrupt_batch(batch, name, args.severity, seeds)
            row["batched_img_s"] = args.images / (time.perf_counter() - start)
            row["speedup"] = row["batched_img_s"] / reference
        rows.append(row)
        batched = (
            f"{row['batched_img_s']:14.1f} {row['speedup']:8.1f}x" if "speedup" in row else f"{'—':>14s} {'—':>9s}"
        )
        print(f"{name:18s} {reference:16.1f} {batched}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "size": args.size,
                "images": args.images,
                "severity": args.severity,
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "results": rows,
            },
            indent=1,
        )
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
