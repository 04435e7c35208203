"""Classify image files with any registered model."""

from __future__ import annotations

from typing import Sequence

import torch

from brainlike.errors import BrainlikeError
from brainlike.labels import class_names
from brainlike.registry import create_model
from brainlike.runtime.devices import pick_device
from brainlike.transforms import load_images


def classify(
    name: str, images: Sequence[str], *, pretrained=True, topk: int = 5, batch_size: int = 64, device: str = "auto"
):
    """Yield (path, [(label, probability), ...]) for each image, best first."""
    for path, per_step in classify_steps(
        name, images, pretrained=pretrained, topk=topk, batch_size=batch_size, steps="last", device=device
    ):
        yield path, per_step[-1]


def classify_steps(
    name: str,
    images: Sequence[str],
    *,
    pretrained=True,
    topk: int = 5,
    batch_size: int = 64,
    steps: str = "all",
    device: str = "auto",
):
    """Yield (path, [[(label, probability), ...] per readout step]) for each image, best first.

    steps: "all" decodes every readout step of the model (`model.readouts`), "last" only the final one.
    """
    if steps not in ("all", "last"):
        raise BrainlikeError(f"steps must be 'all' or 'last', not {steps!r}")
    device = pick_device(device)
    model = create_model(name, pretrained=pretrained).eval().to(device)
    decode_all = steps == "all" and hasattr(model, "readouts")
    card = model.card
    labels = class_names(card.labels) if card.labels else None
    topk = min(topk, card.num_classes)
    for start in range(0, len(images), batch_size):
        paths = list(images[start : start + batch_size])
        x = load_images(paths, card.preprocessing, card.input_size).to(device)
        with torch.no_grad():
            logits = model.readouts(x) if decode_all else [model(x)]
        per_step = [probabilities.topk(topk, dim=1) for probabilities in (z.softmax(dim=1) for z in logits)]
        for row, path in enumerate(paths):
            yield (
                path,
                [
                    [
                        (labels[i] if labels and i < len(labels) else f"class {i}", p)
                        for i, p in zip(indices[row].tolist(), values[row].tolist())
                    ]
                    for values, indices in per_step
                ],
            )
