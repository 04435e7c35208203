"""The loop that runs a model over a labelled dataset with its readouts: loss and top-1 / top-5 accuracy
per readout step. Training validates with it; robustness and `brainlike evaluate` measure with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from brainlike.data import LabeledImages
from brainlike.errors import BrainlikeError
from brainlike.precision import autocast
from brainlike.reports import Report, markdown_table
from brainlike.reports.figures.accuracy import accuracy_figure
from brainlike.runtime.batches import Collate, ShardSampler, Transformed, eval_transform
from brainlike.runtime.devices import decode_workers, pick_device
from brainlike.runtime.distributed import Context, all_sum
from brainlike.runtime.metrics import Accuracy, correct_counts
from brainlike.runtime.readouts import ReadoutLoss, Readouts


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

    def frame(self):
        """A pandas DataFrame, one row per readout step (top-1 and top-5 as fractions)."""
        import pandas as pd

        return pd.DataFrame({"readout_step": range(self.readout_steps), "top1": self.top1, "top5": self.top5})


def eval_loader(
    dataset, transform, preprocessing: str, *, batch_size: int, workers: int = 0, context: Context | None = None
) -> DataLoader:
    context = context or Context()
    data = Transformed(dataset, transform, random=False)
    sampler = ShardSampler(data, num_replicas=context.world_size, rank=context.rank)
    return DataLoader(
        data,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        collate_fn=Collate(preprocessing),
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
    context: Context | None = None,
    progress: bool = False,
    readout_steps: int | None = None,
) -> Evaluation:
    """Evaluate a `Readouts` module over a loader; sums are combined over processes.

    `readout_steps` is needed only when a process may get no images (an empty shard).
    """
    context = context or Context()
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


def measure_accuracy(
    model: nn.Module,
    dataset: LabeledImages,
    *,
    input_size: int | None = None,
    preprocessing: str | None = None,
    transform: str = "resize_center_crop",
    crop_fraction: float = 0.875,
    batch_size: int = 64,
    workers: int | None = None,
    device: str | torch.device | None = "auto",
    precision: str = "fp32",
    progress: bool = False,
) -> Evaluation:
    """Loss and top-1 / top-5 per readout step of `model` on `dataset`.

    Size and normalisation default to the model card's; `transform` is a validation transform name
    ("resize_center_crop", "squash", "none", …); `workers` (decoding processes) defaults to the spare cores.
    """
    card = getattr(model, "card", None)
    size = input_size or (card.input_size if card else 224)
    preprocessing = preprocessing or (card.preprocessing if card else "imagenet")
    device = pick_device(str(device) if device is not None else None)
    workers = decode_workers(device) if workers is None else workers
    loader = eval_loader(
        dataset,
        eval_transform(transform, size=size, crop_fraction=crop_fraction),
        preprocessing,
        batch_size=batch_size,
        workers=workers,
        context=Context(device=device),
    )
    model.to(device)
    return run_evaluation(
        Readouts(model), loader, loss_fn=ReadoutLoss().to(device), device=device, precision=precision, progress=progress
    )


def evaluation_table(evaluation: Evaluation) -> str:
    rows = [
        [t, f"{100 * a1:.2f}", f"{100 * a5:.2f}"] for t, (a1, a5) in enumerate(zip(evaluation.top1, evaluation.top5))
    ]
    return markdown_table(["readout step", "top-1 %", "top-5 %"], rows)


def write_evaluation_report(evaluation: Evaluation, folder: str | Path, *, title: str, details: dict) -> Path:
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
    report.add_figure(
        "accuracy_per_step",
        accuracy_figure(evaluation.top1, evaluation.top5, title=title),
        caption="accuracy per readout step",
    )
    return report.write()
