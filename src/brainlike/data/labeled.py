"""The common shape of every classification dataset: images with integer labels and class names.

A dataset item is `(image, label)` where the image is a PIL image or a uint8 (3, H, W) tensor; the
training and evaluation transforms turn it into a float tensor. Items that live in files are read
lazily, so a corrupt file is found when it is first read and reported by its path.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

from torch.utils.data import Dataset

from brainlike.errors import BrainlikeError
from brainlike.transforms import load_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp", ".gif")


class LabeledImages(Dataset):
    """Base class: `classes` (names, index = label), `targets` (one label per item), `__getitem__`."""

    classes: list[str]
    targets: list[int]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.targets)


class ImageFiles(LabeledImages):
    """Labeled image files read on demand.

    With `skip_bad`, an unreadable file is reported as a warning and its item comes back as None
    (the loaders' collate function drops it); without, reading it raises a BrainlikeError naming it.
    """

    def __init__(
        self, files: Sequence[Path], targets: Sequence[int], classes: Sequence[str], *, skip_bad: bool = False
    ):
        if len(files) != len(targets):
            raise ValueError("one target per file is needed")
        self.files = list(files)
        self.targets = list(targets)
        self.classes = list(classes)
        self.skip_bad = skip_bad

    def __getitem__(self, index: int):
        path = self.files[index]
        try:
            return load_image(path), self.targets[index]
        except BrainlikeError as error:
            if not self.skip_bad:
                raise BrainlikeError(f"{error} (pass --skip-bad / skip_bad=True to skip unreadable images)") from None
            warnings.warn(f"skipped unreadable image {path}", stacklevel=2)
            return None


def image_files(folder: Path) -> list[Path]:
    """Image files directly inside `folder`, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise BrainlikeError(f"{what}: no folder at {path}")
    return path
