"""Classify image files with any registered model."""

from __future__ import annotations

from typing import Sequence

import torch

from brainlike.labels import class_names
from brainlike.registry import create_model
from brainlike.transforms import load_images


def classify(name: str, images: Sequence[str], *, pretrained=True, topk: int = 5, batch_size: int = 16):
    """Yield (path, [(label, probability), ...]) for each image, best first."""
    model = create_model(name, pretrained=pretrained).eval()
    card = model.card
    labels = class_names(card.labels) if card.labels else None
    topk = min(topk, card.num_classes)
    for start in range(0, len(images), batch_size):
        paths = list(images[start:start + batch_size])
        x = load_images(paths, card.preprocessing, card.input_size)
        with torch.no_grad():
            probabilities = model(x).softmax(dim=1)
        values, indices = probabilities.topk(topk, dim=1)
        for path, row_values, row_indices in zip(paths, values.tolist(), indices.tolist()):
            yield path, [(labels[i] if labels and i < len(labels) else f"class {i}", p)
                         for i, p in zip(row_indices, row_values)]
