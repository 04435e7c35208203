"""`brainlike evaluate`: loss and top-1 / top-5 per readout step of a model on a dataset split, as a report."""

from __future__ import annotations

from pathlib import Path

import torch.nn as nn

from brainlike.data import open_dataset
from brainlike.runtime.evaluation import measure_accuracy, write_evaluation_report
from brainlike.runtime.model_setup import build_for_dataset, checkpoint_settings


def accuracy_report(
    model: str | nn.Module,
    output: str | Path,
    *,
    data: str | Path,
    pretrained: bool | str = True,
    split: str = "val",
    input_size: int | None = None,
    preprocessing: str | None = None,
    transform: str | None = None,
    batch_size: int = 64,
    workers: int | None = None,
    device: str = "auto",
    precision: str = "fp32",
    skip_bad: bool = False,
    progress: bool = True,
    **model_config,
) -> Path:
    """Evaluate a model (a module, or a registered name with published weights, a tag, a weights file or a
    training checkpoint) on a dataset split and write a report (table + PNG) to `output`.

    A brainlike training checkpoint brings its own model configuration, image size, normalisation and
    validation transform; explicit arguments still win.
    """
    settings = {}
    if isinstance(model, str):
        name = model
        input_size = input_size or checkpoint_settings(pretrained).get("input_size")
        dataset = open_dataset(data, split, skip_bad=skip_bad, digits_size=input_size or 32)
        model, settings = build_for_dataset(name, dataset, pretrained=pretrained, **model_config)
    else:
        name = model.card.name if hasattr(model, "card") else type(model).__name__
        dataset = open_dataset(data, split, skip_bad=skip_bad, digits_size=input_size or 32)
    transform = transform or settings.get("val_transform", "resize_center_crop")
    result = measure_accuracy(
        model,
        dataset,
        input_size=input_size,
        preprocessing=preprocessing or settings.get("preprocessing"),
        transform=transform,
        crop_fraction=settings.get("crop_fraction", 0.875),
        batch_size=batch_size,
        workers=workers,
        device=device,
        precision=precision,
        progress=progress,
    )
    card = getattr(model, "card", None)
    details = {
        "model": name,
        "data": str(data),
        "split": split,
        "pretrained": str(pretrained),
        "input_size": input_size or (card.input_size if card else None),
        "transform": transform,
    }
    return write_evaluation_report(result, output, title=f"{name} on {data} ({split})", details=details)
