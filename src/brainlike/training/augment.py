"""Training and validation transforms by name, and per-sample seeded augmentation.

Each item's random augmentation is drawn from a generator seeded by (run seed, epoch, item index),
never from a worker's or the process's RNG stream. An item therefore gets the same augmentation
whatever the number of loader workers or processes, and after a resume in the middle of an epoch,
which is what makes resumed and distributed runs repeat a single uninterrupted run exactly.
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset
from torchvision.transforms import v2

from brainlike.errors import BrainlikeError
from brainlike.transforms import normalize, preset

IMAGENET_CROP = 224
TRAIN_TRANSFORMS = ("random_resized_crop", "imagenet_then_resize", "blt_vs", "flip", "none")
VAL_TRANSFORMS = ("resize_center_crop", "imagenet_then_resize", "squash", "none")


def _geometry(name: str, size: int, *, train: bool, crop_fraction: float, isotropic_blur: bool) -> list:
    if train:
        if name == "random_resized_crop":
            return [v2.RandomResizedCrop(size, antialias=True), v2.RandomHorizontalFlip()]
        if name == "imagenet_then_resize":
            return [
                v2.RandomResizedCrop(IMAGENET_CROP, antialias=True),
                v2.Resize((size, size), antialias=True),
                v2.RandomHorizontalFlip(),
            ]
        if name == "blt_vs":
            # torchvision's kernel_size is (x, y): (1, 27) is the original's one-axis blur.
            kernel = (27, 27) if isotropic_blur else (1, 27)
            return [
                v2.Resize(size, antialias=True),
                v2.RandomCrop(size),
                v2.RandomApply([v2.GaussianBlur(kernel, sigma=(0.1, 13.5))], p=0.5),
                v2.RandomHorizontalFlip(),
                v2.TrivialAugmentWide(),
            ]
        if name == "flip":
            return [v2.RandomHorizontalFlip()]
        if name == "none":
            return []
        raise BrainlikeError(f"unknown train_transform {name!r}; known: {', '.join(TRAIN_TRANSFORMS)}")
    if name == "resize_center_crop":
        return [v2.Resize(round(size / crop_fraction), antialias=True), v2.CenterCrop(size)]
    if name == "imagenet_then_resize":
        return [
            v2.Resize(round(IMAGENET_CROP / 0.875), antialias=True),
            v2.CenterCrop(IMAGENET_CROP),
            v2.Resize((size, size), antialias=True),
        ]
    if name == "squash":
        return [v2.Resize((size, size), antialias=True)]
    if name == "none":
        return []
    raise BrainlikeError(f"unknown val_transform {name!r}; known: {', '.join(VAL_TRANSFORMS)}")


def build_transform(
    name: str, *, size: int, train: bool, crop_fraction: float = 0.875, isotropic_blur: bool = False
) -> v2.Compose:
    """PIL image or uint8 tensor -> uint8 (3, size, size) tensor; `Collate` normalises whole batches."""
    return v2.Compose(
        [v2.ToImage(), *_geometry(name, size, train=train, crop_fraction=crop_fraction, isotropic_blur=isotropic_blur)]
    )


def is_random(name: str) -> bool:
    """Whether the named training transform draws random numbers."""
    return name != "none"


def item_seed(seed: int, epoch: int, index: int) -> int:
    return (((seed + 1) * 1_000_003 + epoch) * 2_654_435_761 + index) % (2**63 - 1)


class Transformed(Dataset):
    """Applies `transform` to a dataset's images; indexed by (epoch, index) pairs from the sampler.

    Items that come back None (unreadable files skipped on request) stay None.
    """

    def __init__(self, dataset, transform, *, seed: int = 0, random: bool = True):
        self.dataset = dataset
        self.transform = transform
        self.seed = seed
        self.random = random

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        epoch, index = key if isinstance(key, tuple) else (0, key)
        item = self.dataset[index]
        if item is None:
            return None
        image, label = item
        if not self.random:
            return self.transform(image), label
        # Only the CPU generator: torch.manual_seed would also queue seeds for every accelerator
        # backend, which costs more than the transform itself.
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(item_seed(self.seed, epoch, index))
            return self.transform(image), label


class Collate:
    """Batches the items that were read (skipped items, None, are left out) and normalises the images
    with a preprocessing preset: once per batch rather than once per image, which is most of the
    per-image cost for small images."""

    def __init__(self, normalization: str):
        preset(normalization)
        self.normalization = normalization

    def __call__(self, batch):
        kept = [item for item in batch if item is not None]
        if not kept:
            return None
        images, *rest = torch.utils.data.default_collate(kept)
        return normalize(images, self.normalization), *rest
