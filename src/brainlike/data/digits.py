"""The embedded dataset: scikit-learn's handwritten digits (UCI ML optical digits test set, 1,797
8 x 8 images of 10 classes; Alpaydin & Kaynak 1998), upsampled so vision models can take them.

The split is fixed: every fifth image (by index) is validation, the rest train (1,437 / 360).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from brainlike.data.labeled import LabeledImages
from brainlike.errors import BrainlikeError

VAL_EVERY = 5


class Digits(LabeledImages):
    """Digits as uint8 (3, size, size) tensors: grey ink-on-black repeated over the three channels."""

    def __init__(self, *, split: str = "train", size: int = 32):
        from sklearn.datasets import load_digits

        if split not in ("train", "val"):
            raise BrainlikeError(f"digits has the splits train and val, not {split!r}")
        if size < 8:
            raise BrainlikeError(f"digits are 8 x 8 pixels; size must be at least 8, not {size}")
        bunch = load_digits()
        index = torch.arange(len(bunch.target))
        keep = index % VAL_EVERY == 0 if split == "val" else index % VAL_EVERY != 0
        images = torch.from_numpy(bunch.images).float()[keep] / 16.0
        images = F.interpolate(images[:, None], size=(size, size), mode="bilinear", align_corners=False)
        self.images = (images.clamp(0, 1) * 255).round().to(torch.uint8).expand(-1, 3, -1, -1).contiguous()
        self.targets = torch.from_numpy(bunch.target)[keep].tolist()
        self.classes = [str(d) for d in range(10)]

    def __getitem__(self, index: int):
        return self.images[index], self.targets[index]


def digits(split: str = "train", *, size: int = 32) -> Digits:
    return Digits(split=split, size=size)
