"""Training throughput: the brainlike trainer against a plain PyTorch loop, in the same run.

    python bench/train.py [--models cornet_z cornet_s blt_net_32] [--size 64] [--batch 32] [--steps 4]
                          [--repeat 2] [--out bench/results/train_cpu.json]

For each model and precision (fp32, bf16 autocast), both loops train on the same synthetic images
(one batch = --batch images of --size px, default: the card's input size) with SGD; the trainer
runs with every feature but the progress bar on (seeded per-item transform pipeline, sampler, per-step top-1/top-5,
NaN check, CSV + TensorBoard logging, checkpoint timer). Blocks of --steps steps of the two loops
are interleaved --repeat times so load on a shared machine hits both alike; the median step time
of each is reported. Overhead = 1 - trainer images/s / plain images/s (target: under 5 %).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from brainlike import create_model, model_card  # noqa: E402
from brainlike.data.labeled import LabeledImages  # noqa: E402
from brainlike.precision import autocast  # noqa: E402
from brainlike.runtime.distributed import Context  # noqa: E402
from brainlike.training.recipes import load_recipe  # noqa: E402
from brainlike.training.trainer import Trainer  # noqa: E402
from brainlike.transforms import normalize  # noqa: E402


class Synthetic(LabeledImages):
    def __init__(self, count: int, size: int, classes: int):
        generator = torch.Generator().manual_seed(0)
        self.images = torch.randint(0, 256, (count, 3, size, size), dtype=torch.uint8, generator=generator)
        self.targets = torch.randint(0, classes, (count,), generator=generator).tolist()
        self.classes = [str(c) for c in range(classes)]

    def __getitem__(self, index):
        return self.images[index], self.targets[index]


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_steps(
    model,
    data: Synthetic,
    batch: int,
    precision: str,
    steps: int,
    mean_readouts: bool,
    device: torch.device,
    normalization: str,
) -> list[float]:
    """forward, cross-entropy, backward, SGD step over a plain DataLoader of preprocessed images: the baseline."""
    images = normalize(data.images, normalization)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(images, torch.tensor(data.targets)),
        batch_size=batch,
        shuffle=True,
        drop_last=True,
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=1e-4)
    times, tick = [], time.perf_counter()
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with autocast(precision, device.type):
            outputs = model.readouts(x) if mean_readouts else [model(x)]
            loss = torch.stack([F.cross_entropy(o.float(), y) for o in outputs]).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        synchronize(device)
        now = time.perf_counter()
        times.append(now - tick)
        tick = now
        if len(times) == steps:
            break
    return times


def trainer_steps(trainer: Trainer, steps: int) -> list[float]:
    def stamp(_):
        synchronize(trainer.context.device)
        stamps.append(time.perf_counter())

    stamps = [time.perf_counter()]
    trainer.fit(max_steps=trainer.global_step + steps, on_step=stamp)
    return [b - a for a, b in zip(stamps, stamps[1:])]


def bench(
    name: str, size: int | None, batch: int, steps: int, repeat: int, precision: str, device: torch.device, workers: int
) -> dict:
    card = model_card(name)
    size = size or card.input_size
    torch.manual_seed(0)
    model = create_model(name, num_classes=10)
    mean_readouts = card.readout_steps > 1
    data = Synthetic(batch * (steps + 1), size, 10)
    recipe = load_recipe("digits").replace(
        optimizer="sgd",
        lr=1e-3,
        momentum=0.9,
        weight_decay=1e-4,
        schedule="constant",
        batch_size=batch,
        input_size=size,
        precision=precision,
        readout_loss="mean" if mean_readouts else "last",
        train_transform="none",
        val_transform="none",
        log_every=10,
        checkpoint_minutes=1e6,
        epochs=10**6,
        workers=workers,
    )
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(model, data, None, recipe, output=folder, progress=False, context=Context(device=device))
        plain_model = create_model(name, num_classes=10).to(device)
        plain_steps(plain_model, data, batch, precision, 1, mean_readouts, device, trainer.preprocessing)  # warm-up
        trainer_steps(trainer, 1)
        plain, ours = [], []
        for _ in range(repeat):
            plain += plain_steps(
                plain_model, data, batch, precision, steps, mean_readouts, device, trainer.preprocessing
            )
            ours += trainer_steps(trainer, steps)
    plain_ips, trainer_ips = batch / statistics.median(plain), batch / statistics.median(ours)
    return {
        "model": name,
        "device": str(device),
        "size": size,
        "batch": batch,
        "precision": precision,
        "workers": workers,
        "steps_timed": len(ours),
        "plain_img_s": plain_ips,
        "trainer_img_s": trainer_ips,
        "overhead": 1 - trainer_ips / plain_ips,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["cornet_z", "cornet_s", "blt_net_32"])
    parser.add_argument("--size", type=int, help="input size in px (default: each card's)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=0, help="data-loading processes of the trainer")
    parser.add_argument("--out", default="bench/results/train_cpu.json")
    args = parser.parse_args()
    rows = []
    print(f"{'model':<12} {'px':>4} {'prec':<5} {'plain img/s':>12} {'trainer img/s':>14} {'overhead':>9}")
    for name in args.models:
        for precision in args.precisions:
            row = bench(
                name, args.size, args.batch, args.steps, args.repeat, precision, torch.device(args.device), args.workers
            )
            rows.append(row)
            print(
                f"{name:<12} {row['size']:>4} {precision:<5} {row['plain_img_s']:>12.1f} "
                f"{row['trainer_img_s']:>14.1f} {100 * row['overhead']:>8.1f}%",
                flush=True,
            )
            # Written after every row, so a long run that is cut short keeps what it measured.
            write(Path(args.out), args, rows)
    print(f"written to {args.out}")


def write(out: Path, args, rows: list[dict]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "machine": platform.machine(),
                "args": vars(args),
                "rows": rows,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
