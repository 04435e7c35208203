"""Training transforms by name (random crops, flips, the BLT-VS augmentation); `brainlike.runtime.batches`
seeds them per item and holds the validation transforms."""

from __future__ import annotations

from torchvision.transforms import v2

from brainlike.errors import BrainlikeError
from brainlike.runtime.batches import IMAGENET_CROP

TRAIN_TRANSFORMS = ("random_resized_crop", "imagenet_then_resize", "blt_vs", "flip", "none")


def _geometry(name: str, size: int, *, isotropic_blur: bool) -> list:
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


def train_transform(name: str, *, size: int, isotropic_blur: bool = False) -> v2.Compose:
    """PIL image or uint8 tensor -> uint8 (3, size, size) tensor, randomly augmented."""
    return v2.Compose([v2.ToImage(), *_geometry(name, size, isotropic_blur=isotropic_blur)])


def is_random(name: str) -> bool:
    """Whether the named training transform draws random numbers."""
    return name != "none"
