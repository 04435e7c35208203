"""`open_dataset(source, split)`: one entry point for every dataset format brainlike reads.

`source` is `"digits"` (the embedded digits) or a local folder; the folder's layout says what it is:

- `cifar-10-batches-py/` or a folder holding `batches.meta`            -> CIFAR-10
- `cifar-100-python/` or a folder holding `meta` and `train`           -> CIFAR-100
- `tiny-imagenet-200/` or a folder holding `wnids.txt`                 -> Tiny-ImageNet
- a folder with `train/` and/or `val/` class sub-folders               -> image folder (ImageNet, Ecoset)

Nothing is ever downloaded.
"""

from __future__ import annotations

from pathlib import Path

from brainlike.data.cifar import CIFAR10_FOLDER, CIFAR100_FOLDER, cifar10, cifar100
from brainlike.data.digits import digits
from brainlike.data.folders import image_folder
from brainlike.data.labeled import LabeledImages
from brainlike.data.tiny_imagenet import FOLDER as TINY_FOLDER
from brainlike.data.tiny_imagenet import dataset_root as tiny_root
from brainlike.data.tiny_imagenet import tiny_imagenet
from brainlike.errors import BrainlikeError

EMBEDDED = "digits"


def dataset_kind(source: str | Path) -> str:
    """'digits', 'cifar10', 'cifar100', 'tiny_imagenet' or 'folder' for a dataset source."""
    if str(source) == EMBEDDED:
        return "digits"
    root = Path(source)
    if not root.exists():
        raise BrainlikeError(f"no dataset at {root} (give a local folder, or 'digits' for the embedded one)")
    if not root.is_dir():
        raise BrainlikeError(f"{root} is a file; a dataset is a folder (or 'digits')")
    if (root / CIFAR10_FOLDER).is_dir() or (root / "batches.meta").is_file():
        return "cifar10"
    if (root / CIFAR100_FOLDER).is_dir() or ((root / "meta").is_file() and (root / "train").is_file()):
        return "cifar100"
    if (root / TINY_FOLDER).is_dir() or (root / "wnids.txt").is_file():
        return "tiny_imagenet"
    if (root / "train").is_dir() or (root / "val").is_dir():
        return "folder"
    raise BrainlikeError(
        f"{root} is not a dataset folder brainlike knows: expected train/<class>/… and val/<class>/… "
        f"(ImageNet/Ecoset layout), CIFAR python batches, or Tiny-ImageNet (wnids.txt)"
    )


def has_split(source: str | Path, split: str) -> bool:
    """Whether the dataset at `source` has `split`: image folders and Tiny-ImageNet may lack `val/`."""
    kind = dataset_kind(source)
    if kind == "folder":
        return (Path(source) / split).is_dir()
    if kind == "tiny_imagenet":
        return (tiny_root(Path(source)) / split).is_dir()
    return True


def open_dataset(
    source: str | Path, split: str = "train", *, skip_bad: bool = False, digits_size: int = 32
) -> LabeledImages:
    """The `split` ('train' or 'val') of the dataset at `source`; see the module docstring."""
    kind = dataset_kind(source)
    if kind == "digits":
        return digits(split, size=digits_size)
    if kind == "cifar10":
        return cifar10(source, split)
    if kind == "cifar100":
        return cifar100(source, split)
    if kind == "tiny_imagenet":
        return tiny_imagenet(source, split, skip_bad=skip_bad)
    return image_folder(source, split, skip_bad=skip_bad)
