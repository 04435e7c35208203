"""Preprocessing presets, image loading, and conversions between degrees and pixels.

A model card names its preprocessing preset; `preprocess(preprocessing, input_size)` turns it into a
callable from a PIL image to a normalised (3, input_size, input_size) tensor. The presets follow the originals:

- "imagenet": squash to size x size, ImageNet mean/std (CORnet feature extraction, Brain-Score).
- "imagenet_crop": resize the short side to size / 0.875, centre-crop, ImageNet mean/std
  (CORnet validation: 256 -> 224).
- "minus_one_one": resize the short side to size, centre-crop, scale to [-1, 1] (BLT-VS).
- "half": squash to size x size, mean 0.5 / std 0.5 per channel (VOneNets).

Resizing runs on uint8 tensors (torchvision's antialiased bilinear kernel), the same pixels torchvision's
Resize gives on a tensor and faster than through PIL. The original repositories resized PIL images; the
two differ by one grey level in 0.05-0.4 % of the pixels (five scikit-image photos, both presets).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from typing import Callable, Iterable

import torch
from PIL import Image, UnidentifiedImageError
from torchvision.transforms.v2 import functional as TF

from brainlike.errors import BrainlikeError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preset:
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resize: str  # "squash" | "center_crop"
    crop_fraction: float = 1.0


PRESETS: dict[str, Preset] = {
    "imagenet": Preset(IMAGENET_MEAN, IMAGENET_STD, "squash"),
    "imagenet_crop": Preset(IMAGENET_MEAN, IMAGENET_STD, "center_crop", 0.875),
    "minus_one_one": Preset((0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "center_crop"),
    "half": Preset((0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "squash"),
}


def preset(name: str) -> Preset:
    if name not in PRESETS:
        raise BrainlikeError(f"unknown preprocessing preset {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[name]


def geometry(preprocessing: str, input_size: int) -> Callable[[Image.Image | torch.Tensor], torch.Tensor]:
    """PIL image or uint8 (3, H, W) pixels -> uint8 tensor (3, input_size, input_size): the preset's resize
    (bilinear, antialiased, on the tensor) and crop, without normalising."""
    return partial(_geometry, preset(preprocessing), input_size)


def _geometry(p: Preset, size: int, image: Image.Image | torch.Tensor) -> torch.Tensor:
    pixels = image if isinstance(image, torch.Tensor) else TF.pil_to_tensor(image)
    if p.resize == "squash":
        return TF.resize_image(pixels, [size, size], antialias=True)
    pixels = TF.resize_image(pixels, [round(size / p.crop_fraction)], antialias=True)
    return TF.center_crop_image(pixels, [size, size])


def preprocess(preprocessing: str, input_size: int) -> Callable[[Image.Image], torch.Tensor]:
    """PIL image -> normalised float tensor (3, input_size, input_size) for the named preset."""
    return partial(_preprocess, geometry(preprocessing, input_size), preprocessing)


def _preprocess(resize: Callable[[Image.Image], torch.Tensor], name: str, image: Image.Image) -> torch.Tensor:
    return normalize(resize(image), name)


def normalize(images: torch.Tensor, preprocessing: str, *, out: torch.Tensor | None = None) -> torch.Tensor:
    """Apply a preset's mean/std to images at the right size ((N,) 3, H, W): uint8 pixels, or floats in
    [0, 1]. One pass, x * (1 / (range * std)) - mean / std, so a batch costs what one float copy costs;
    `out` (same shape) saves allocating fresh pages for every batch of a long loop."""
    p = preset(preprocessing)
    dtype = images.dtype if images.is_floating_point() else torch.float32
    mean = torch.tensor(p.mean, dtype=torch.float64).view(3, 1, 1)
    std = torch.tensor(p.std, dtype=torch.float64).view(3, 1, 1)
    scale = 1 / (std * (255 if images.dtype == torch.uint8 else 1))
    return torch.addcmul((-mean / std).to(images.device, dtype), images, scale.to(images.device, dtype), out=out)


def load_image(path: str | os.PathLike) -> Image.Image:
    """Open an image file as RGB (grayscale, RGBA and palette images are converted)."""
    try:
        with Image.open(path) as image:
            image.load()
            return to_rgb(image)
    except FileNotFoundError:
        raise BrainlikeError(f"no image at {path}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise BrainlikeError(f"cannot read image {path}: {error}") from None


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB version of any PIL image; transparent areas are composited onto white."""
    if image.mode == "RGB":
        return image
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def load_images(
    paths: Iterable[str | os.PathLike], preprocessing: str = "imagenet", input_size: int = 224
) -> torch.Tensor:
    """Load, convert and preprocess image files into one (N, 3, input_size, input_size) batch."""
    resize = geometry(preprocessing, input_size)
    pixels = [resize(load_image(p)) for p in paths]
    if not pixels:
        raise BrainlikeError("no images given")
    return normalize(torch.stack(pixels), preprocessing)


def degrees_to_pixels(degrees: float, *, visual_degrees: float, input_size: int) -> float:
    """Size in pixels of `degrees` of visual angle when the input spans `visual_degrees`."""
    return degrees * input_size / visual_degrees


def pixels_to_degrees(pixels: float, *, visual_degrees: float, input_size: int) -> float:
    return pixels * visual_degrees / input_size


def cycles_per_degree_to_pixels(cpd: float, *, visual_degrees: float, input_size: int) -> float:
    """Spatial frequency in cycles/pixel for `cpd` cycles/degree."""
    return cpd * visual_degrees / input_size
