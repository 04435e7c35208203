"""Cost of record() over a plain forward pass with the same hooks: torchvision:resnet50, four areas, CPU.

    python bench/record_hooks.py [--batch 8] [--size 224] [--repeat 5] [--out bench/results/record_hooks.json]

The plain side is torchvision's ResNet-50 with forward hooks on the same four modules (V1 layer2.3, V2
layer3.0, V4 layer2.3, IT layer4.0) that keep `output.detach().float().contiguous()`, run in eval mode
without gradients on channels-last input, as record() does. record() is timed with `full_forward=True`
(the same work) and as used by default (cut short once IT is in). Runs are interleaved (A B C A B C ...)
so that load on a shared machine affects all alike; the best of the repeats is reported. Target: at most
3 % over the plain pass (issue #18).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from brainlike import create_model, record  # noqa: E402
from brainlike.models.torchvision_areas import commitment  # noqa: E402


def plain_with_hooks(model: torch.nn.Module, paths: list[str]):
    modules = dict(model.named_modules())
    kept: list[torch.Tensor] = []

    def hook(_m, _i, output):
        kept.append(output.detach().float().contiguous())

    for path in paths:
        modules[path].register_forward_hook(hook)

    def run(x):
        kept.clear()
        with torch.no_grad():
            model(x.contiguous(memory_format=torch.channels_last))
        return kept

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default="bench/results/record_hooks.json")
    args = parser.parse_args()

    torch.manual_seed(0)
    wrapped = create_model("torchvision:resnet50").eval()
    plain = torchvision.models.resnet50(weights=None).eval()
    plain.load_state_dict(wrapped.state_dict())
    areas, _ = commitment("resnet50")
    x = torch.randn(args.batch, 3, args.size, args.size)
    runs = {
        "plain forward + hooks": plain_with_hooks(plain, list(areas.values())),
        "record(full_forward=True)": lambda x: record(wrapped, x, full_forward=True),
        "record()": lambda x: record(wrapped, x),
    }
    for fn in runs.values():
        fn(x)  # warm-up
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.repeat):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn(x)
            times[name].append(time.perf_counter() - start)
    best = {k: min(v) for k, v in times.items()}
    base = best["plain forward + hooks"]
    print(f"torchvision:resnet50, batch {args.batch}, {args.size} px, {torch.get_num_threads()} threads")
    print(f"{'run':28s} {'best s':>8s} {'vs plain':>9s}")
    for name, t in best.items():
        print(f"{name:28s} {t:8.4f} {100 * (t / base - 1):+8.1f}%")
    result = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "batch": args.batch,
        "size": args.size,
        "repeat": args.repeat,
        "best_s": best,
        "overhead_full_forward_pct": 100 * (best["record(full_forward=True)"] / base - 1),
        "target_pct": 3.0,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
