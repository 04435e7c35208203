"""Class names for a model's readout, by the label set its card names."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from brainlike.errors import BrainlikeError


@lru_cache(maxsize=None)
def class_names(label_set: str) -> tuple[str, ...]:
    """'imagenet' (from torchvision's weight metadata) or a JSON list shipped in brainlike/labels_data."""
    if label_set == "imagenet":
        from torchvision.models import ResNet50_Weights

        return tuple(ResNet50_Weights.IMAGENET1K_V1.meta["categories"])
    resource = resources.files("brainlike") / "labels_data" / f"{label_set}.json"
    if not resource.is_file():
        raise BrainlikeError(f"no class names for label set {label_set!r}")
    return tuple(json.loads(resource.read_text()))
