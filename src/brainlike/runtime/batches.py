"""Turning a dataset into normalised batches: validation transforms by name, seeded per-item transforms,
batch collation with normalisation, and the sampler that splits items over processes.

Each item's random augmentation is drawn from a generator seeded by (run seed, epoch, item index),
never from a worker's or the process's RNG stream. An item therefore gets the same augmentation
whatever the number of loader workers or processes, and after a resume in the middle of an epoch,
which is what makes resumed and distributed runs repeat a single uninterrupted run exactly.
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset, Sampler
from torchvision.transforms import v2

from brainlike.errors import BrainlikeError
from brainlike.transforms import normalize, preset

IMAGENET_CROP = 224
VAL_TRANSFORMS = ("resize_center_crop", "imagenet_then_resize", "squash", "none")


def eval_geometry(name: str, size: int, *, crop_fraction: float = 0.875) -> list:
    """The deterministic resizing steps of a validation transform."""
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


def eval_transform(name: str, *, size: int, crop_fraction: float = 0.875) -> v2.Compose:
    """PIL image or uint8 tensor -> uint8 (3, size, size) tensor; `Collate` normalises whole batches."""
    return v2.Compose([v2.ToImage(), *eval_geometry(name, size, crop_fraction=crop_fraction)])


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

    def __init__(self, preprocessing: str):
        preset(preprocessing)
        self.preprocessing = preprocessing

    def __call__(self, batch):
        kept = [item for item in batch if item is not None]
        if not kept:
            return None
        images, *rest = torch.utils.data.default_collate(kept)
        return normalize(images, self.preprocessing), *rest


class ShardSampler(Sampler):
    """Every item once, in order, split over processes (rank r takes items r, r+N, …), no padding."""

    def __init__(self, dataset, *, num_replicas: int = 1, rank: int = 0):
        self.size = len(dataset)
        self.num_replicas = num_replicas
        self.rank = rank

    def __iter__(self):
        for index in range(self.rank, self.size, self.num_replicas):
            yield 0, index

    def __len__(self) -> int:
        return len(range(self.rank, self.size, self.num_replicas))
