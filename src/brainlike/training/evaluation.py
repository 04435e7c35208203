"""Evaluation: loss and top-1 / top-5 accuracy per readout step on a dataset split.

`evaluate_model(model, dataset)` is the library entry point (robustness evaluation builds on it);
`evaluate(name, data, ...)` is what `brainlike evaluate` calls: it builds the model, reads the data,
evaluates and writes a report with a figure of accuracy against readout step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from brainlike.data import LabeledImages, open_dataset
from brainlike.errors import BrainlikeError
from brainlike.precision import autocast
from brainlike.training.augment import Collate, Transformed, build_transform
from brainlike.training.distributed import Context, all_sum
from brainlike.training.losses import ReadoutLoss
from brainlike.training.metrics import Accuracy, correct_counts
from brainlike.training.readouts import Readouts
from brainlike.training.sampler import ShardSampler


@dataclass(frozen=True)
class Evaluation:
    """Mean loss, top-1 and top-5 per readout step (index t = step t), and the number of images."""

    loss: float
    top1: list[float]
    top5: list[float]
    images: int

    @property
    def readout_steps(self) -> int:
        return len(self.top1)


def eval_loader(
    dataset, transform, normalization: str, *, batch_size: int, workers: int = 0, context: Context = Context()
) -> DataLoader:
    data = Transformed(dataset, transform, random=False)
    sampler = ShardSampler(data, num_replicas=context.world_size, rank=context.rank)
    return DataLoader(
        data,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        collate_fn=Collate(normalization),
        pin_memory=context.device.type == "cuda",
    )


@torch.no_grad()
def run_evaluation(
    readouts: nn.Module,
    loader: DataLoader,
    *,
    loss_fn: nn.Module,
    device: torch.device,
    precision: str = "fp32",
    context: Context = Context(),
    progress: bool = False,
    readout_steps: int | None = None,
) -> Evaluation:
    """Evaluate a `Readouts` module over a loader; sums are combined over processes.

    `readout_steps` is needed only when a process may get no images (an empty shard).
    """
    from tqdm import tqdm

    was_training = readouts.training
    readouts.eval()
    hits, loss_sum, items = None, torch.zeros((), dtype=torch.float64, device=device), 0
    for batch in tqdm(loader, desc="eval", disable=not (progress and context.is_main), leave=False):
        if batch is None:
            continue
        x, y = batch[0].to(device, non_blocking=True), batch[1].to(device, non_blocking=True)
        with autocast(precision, device.type):
            outputs = readouts(x)
        loss_sum += loss_fn(outputs, y).double() * len(y)
        counts = correct_counts(outputs, y)
        hits = counts if hits is None else hits + counts
        items += len(y)
    readouts.train(was_training)
    if hits is None:
        if readout_steps is None:
            raise BrainlikeError("no images could be evaluated")
        hits = torch.zeros(readout_steps, 2, dtype=torch.float64, device=device)
    total = all_sum(
        torch.cat([hits.flatten(), loss_sum.view(1), torch.tensor([float(items)], device=device, dtype=torch.float64)]),
        context,
    )
    items = int(total[-1].item())
    if items == 0:
        raise BrainlikeError("no images could be evaluated")
    meter = Accuracy()
    meter.add(total[:-2].view(-1, 2).cpu(), float(total[-2].item()), items)
    return Evaluation(meter.loss, meter.top1, meter.top5, items)


def evaluate_model(
    model: nn.Module,
    dataset: LabeledImages,
    *,
    size: int | None = None,
    normalization: str | None = None,
    transform: str = "resize_center_crop",
    crop_fraction: float = 0.875,
    batch_size: int = 64,
    workers: int = 0,
    device: str | torch.device | None = None,
    precision: str = "fp32",
    progress: bool = False,
) -> Evaluation:
    """Loss and top-1 / top-5 per readout step of `model` on `dataset`.

    Size and normalisation default to the model card's; `transform` is a validation transform name
    ("resize_center_crop", "squash", "none", …).
    """
    from brainlike.training.distributed import pick_device

    card = getattr(model, "card", None)
    size = size or (card.input_size if card else 224)
    normalization = normalization or (card.preprocessing if card else "imagenet")
    device = pick_device(str(device) if device is not None else None)
    loader = eval_loader(
        dataset,
        build_transform(transform, size=size, train=False, crop_fraction=crop_fraction),
        normalization,
        batch_size=batch_size,
        workers=workers,
        context=Context(device=device),
    )
    model.to(device)
    return run_evaluation(
        Readouts(model), loader, loss_fn=ReadoutLoss().to(device), device=device, precision=precision, progress=progress
    )


def accuracy_figure(evaluation: Evaluation, title: str):
    """Top-1 and top-5 accuracy against readout step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 3.4))
    steps = list(range(evaluation.readout_steps))
    axis.plot(steps, [100 * a for a in evaluation.top1], "o-", label="top-1")
    axis.plot(steps, [100 * a for a in evaluation.top5], "s--", label="top-5")
    axis.set_xlabel("readout step")
    axis.set_ylabel("accuracy (%)")
    axis.set_xticks(steps)
    axis.set_ylim(0, 100)
    axis.set_title(title)
    axis.legend()
    figure.tight_layout()
    return figure


def evaluation_table(evaluation: Evaluation) -> str:
    from brainlike.report import markdown_table

    rows = [
        [t, f"{100 * a1:.2f}", f"{100 * a5:.2f}"] for t, (a1, a5) in enumerate(zip(evaluation.top1, evaluation.top5))
    ]
    return markdown_table(["readout step", "top-1 %", "top-5 %"], rows)


def write_evaluation_report(evaluation: Evaluation, folder: str | Path, *, title: str, details: dict) -> Path:
    from brainlike.report import Report

    report = Report(Path(folder), title)
    report.data.update(
        {
            **details,
            "loss": evaluation.loss,
            "top1": evaluation.top1,
            "top5": evaluation.top5,
            "images": evaluation.images,
        }
    )
    report.add_section("Accuracy per readout step", evaluation_table(evaluation))
    report.add_figure("accuracy_per_step", accuracy_figure(evaluation, title), caption="accuracy per readout step")
    return report.write()


def evaluate(
    name: str,
    data: str | Path,
    *,
    pretrained: bool | str = True,
    split: str = "val",
    size: int | None = None,
    normalization: str | None = None,
    transform: str | None = None,
    batch_size: int = 64,
    workers: int = 0,
    device: str | None = None,
    precision: str = "fp32",
    skip_bad: bool = False,
    output: str | Path | None = None,
    progress: bool = True,
    **model_config,
) -> Evaluation:
    """`brainlike evaluate`: a registered model (published weights, a tag, or a checkpoint file) on a
    dataset split, with a report (table + PNG) written to `output` when given.

    A brainlike training checkpoint brings its own model configuration, image size, normalisation
    and validation transform; explicit arguments still win.
    """
    from brainlike.training.model_setup import build_for_dataset, checkpoint_settings

    size = size or checkpoint_settings(pretrained).get("image_size")
    dataset = open_dataset(data, split, skip_bad=skip_bad, digits_size=size or 32)
    model, settings = build_for_dataset(name, dataset, pretrained=pretrained, **model_config)
    normalization = normalization or settings.get("normalization")
    transform = transform or settings.get("val_transform", "resize_center_crop")
    result = evaluate_model(
        model,
        dataset,
        size=size,
        normalization=normalization,
        transform=transform,
        crop_fraction=settings.get("crop_fraction", 0.875),
        batch_size=batch_size,
        workers=workers,
        device=device,
        precision=precision,
        progress=progress,
    )
    if output is not None:
        write_evaluation_report(
            result,
            output,
            title=f"{name} on {data} ({split})",
            details={
                "model": name,
                "data": str(data),
                "split": split,
                "pretrained": str(pretrained),
                "size": size or model.card.input_size,
                "transform": transform,
            },
        )
    return result
