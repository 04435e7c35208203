"""Throughput of `measure_behaviour` on the Geirhos et al. (2019) cue-conflict stimuli against the pure
batched forward of the same model, measured in the same run.

For each model:
  (a) forward    Readouts(model) on a batch already in memory, in the layout the measurement uses
                 (channels-last on CPUs), timed before and after (b) and averaged, so load drifting on a
                 shared machine hits both alike
  (b) behaviour  measure_behaviour(): decode the PNGs (DataLoader, default decode workers), normalise,
                 forward every readout step, map logits to the 16 categories; its time split into decode /
                 forward / analysis, plus the measures of the report (`summarise`: shape bias, error
                 consistency with the 10 humans, per-step decision times) as a second analysis figure
The target: (b) runs at >= 90 % of (a)'s images/s.

    .venv/bin/python bench/behaviour.py --stimuli /path/to/texture-vs-shape/stimuli            # 1,280 images
    .venv/bin/python bench/behaviour.py --stimuli DIR --models cornet_z --limit 16 --threads 2  # a quick check

Weights: random unless --pretrained (throughput does not depend on them; decisions do).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from brainlike import create_model  # noqa: E402
from brainlike.analysis.behaviour import measure_behaviour, summarise  # noqa: E402
from brainlike.recording import image_layout  # noqa: E402
from brainlike.runtime import Readouts, decode_workers  # noqa: E402

RESULTS = Path(__file__).parent / "results"


@torch.no_grad()
def pure_forward(model, batch_size: int, batches: int) -> float:
    """Images per second of Readouts(model) on in-memory batches (one warm-up batch first)."""
    card = model.card
    x = torch.randn(batch_size, 3, card.input_size, card.input_size).contiguous(memory_format=image_layout("cpu"))
    readouts = Readouts(model).eval()
    readouts(x)
    started = time.perf_counter()
    for _ in range(batches):
        readouts(x)
    return batches * batch_size / (time.perf_counter() - started)


def bench_model(name: str, args) -> dict:
    torch.manual_seed(0)
    model = create_model(name, pretrained=args.pretrained).eval()
    images = args.limit or 1280
    batches = max(1, min(args.forward_batches, math.ceil(images / args.batch_size)))
    before = pure_forward(model, args.batch_size, batches)
    started = time.perf_counter()
    result = measure_behaviour(
        model, "cue-conflict", stimuli=args.stimuli, limit=args.limit, batch_size=args.batch_size, workers=args.workers
    )
    seconds = time.perf_counter() - started
    measured = time.perf_counter()
    summarise(result)
    measures = time.perf_counter() - measured
    after = pure_forward(model, args.batch_size, batches)
    forward = (before + after) / 2
    done = len(result.images)
    return {
        "model": name,
        "images": done,
        "readout_steps": result.readout_steps,
        "categories": len(result.categories),
        "batch_size": args.batch_size,
        "decode_workers": decode_workers("cpu") if args.workers is None else args.workers,
        "seconds": seconds,
        **{k: v for k, v in result.timings.items()},
        "other_s": seconds - sum(result.timings.values()),
        "measures_s": measures,
        "behaviour_img_s": done / seconds,
        "forward_img_s": forward,
        "forward_img_s_before_after": [before, after],
        "ratio": done / seconds / forward,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stimuli", required=True, help="a folder with the cue-conflict stimuli")
    parser.add_argument("--models", nargs="+", default=["cornet_s", "blt_vs_ecoset"])
    parser.add_argument("--limit", type=int, help="an evenly spaced subset of this many images (default all)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, help="decode processes (default: the spare cores)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--forward-batches", type=int, default=4, help="batches timed for the pure forward")
    parser.add_argument("--pretrained", action="store_true", help="the published weights (must be cached)")
    parser.add_argument("--tag", default="", help="results go to bench/results/behaviour[-TAG].json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = [bench_model(name, args) for name in args.models]
    header = f"{'model':16s} {'images':>6s} {'steps':>5s} {'decode s':>9s} {'forward s':>9s} {'analysis s':>10s}"
    header += f" {'measures s':>10s} {'img/s':>7s} {'forward img/s':>13s} {'ratio':>6s}"
    print(header)
    for r in rows:
        print(
            f"{r['model']:16s} {r['images']:6d} {r['readout_steps']:5d} {r['decode_s']:9.2f} {r['forward_s']:9.2f} "
            f"{r['analysis_s']:10.3f} {r['measures_s']:10.2f} {r['behaviour_img_s']:7.2f} {r['forward_img_s']:13.2f} "
            f"{r['ratio']:6.2f}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.platform(),
        "processor": platform.processor(),
        "target_ratio": 0.9,
        "rows": rows,
    }
    (RESULTS / f"behaviour{'-' + args.tag if args.tag else ''}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
