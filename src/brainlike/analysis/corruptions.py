"""The 15 ImageNet-C corruptions (Hendrycks & Dietterich 2019) at severities 1-5, seeded.

`corrupt(image, name, severity, seed)` applies the reference definition of the `imagecorruptions`
package (the maintained `imagecorruptions-imaug` release) to one uint8 (H, W, 3) image. The reference
draws from numpy's global random state (and, for impulse noise and glass blur, from a seed argument);
here every call gets its own seed and the global state is restored afterwards, so a result depends
only on (image, name, severity, seed).

`corrupt_batch(images, name, severity, seeds)` is a batched torch version of the corruptions for
which one exists (noise, contrast, brightness, defocus blur): the same formulas on a (N, 3, H, W)
uint8 tensor on any device. Deterministic ones equal the reference to +-1 grey level; the noise draws
come from torch, so they match the reference in distribution, not sample by sample. On a GPU they
run next to the model; on a CPU the noise draws are faster in numpy (bench/corruptions.py), so
`faster_batched(name, device)` says when to use them.
"""

from __future__ import annotations

import zlib
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F

from brainlike.errors import BrainlikeError, optional_import

CORRUPTIONS = (
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
)
SEVERITIES = (1, 2, 3, 4, 5)
_SEEDED_BY_ARGUMENT = ("impulse_noise", "glass_blur")

# Severity constants of the reference definitions (Hendrycks & Dietterich 2019, ImageNet-C).
_GAUSSIAN_SCALE = (0.08, 0.12, 0.18, 0.26, 0.38)
_SHOT_RATE = (60, 25, 12, 5, 3)
_IMPULSE_AMOUNT = (0.03, 0.06, 0.09, 0.17, 0.27)
_CONTRAST = (0.4, 0.3, 0.2, 0.1, 0.05)
_BRIGHTNESS = (0.1, 0.2, 0.3, 0.4, 0.5)
_DEFOCUS = ((3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5))

BATCHED = ("gaussian_noise", "shot_noise", "impulse_noise", "contrast", "brightness", "defocus_blur")
CPU_FASTER = ("brightness", "contrast", "defocus_blur")  # bench/corruptions.py; numpy wins the noise on a CPU


def faster_batched(name: str, device: torch.device) -> bool:
    return name in BATCHED and (device.type != "cpu" or name in CPU_FASTER)


def check(name: str, severity: int) -> None:
    if name not in CORRUPTIONS:
        raise BrainlikeError(f"unknown corruption {name!r}; choose from {', '.join(CORRUPTIONS)}")
    if severity not in SEVERITIES:
        raise BrainlikeError(f"severity must be 1-5, not {severity!r}")


def corruption_seed(seed: int, index: int, name: str, severity: int) -> int:
    """A 32-bit seed for one (image, corruption, severity) cell, stable across runs and batch orders."""
    return zlib.crc32(f"{seed}/{index}/{name}/{severity}".encode())


@contextmanager
def _numpy_seed(seed: int):
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def corrupt(image: np.ndarray, name: str, severity: int, seed: int) -> np.ndarray:
    """The reference corruption of one uint8 (H, W, 3) image (H, W >= 32)."""
    reference = optional_import("imagecorruptions", extra="robustness", purpose="corruptions").corrupt
    check(name, severity)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise BrainlikeError(f"expected a uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    if min(image.shape[:2]) < 32:
        raise BrainlikeError(f"corruptions need images of at least 32x32 pixels, got {image.shape[:2]}")
    extra = {"seed": seed} if name in _SEEDED_BY_ARGUMENT else {}
    with _numpy_seed(seed):
        out = reference(image, severity=severity, corruption_name=name, **extra)
    return np.array(out[:, :, :3]) if out.ndim == 3 else np.repeat(out[:, :, None], 3, axis=2)


def _to_uint8(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] floats -> uint8 the way the reference does it: scale by 255, clip, truncate."""
    return (x.clamp(0, 1) * 255).to(torch.uint8)


def _disk(radius: float, alias_blur: float) -> torch.Tensor:
    """The reference defocus kernel: a disk of `radius`, normalised, then Gaussian-smoothed."""
    cv2 = optional_import("cv2", extra="robustness", purpose="the defocus blur")
    if radius <= 8:
        coords, ksize = np.arange(-8, 8 + 1), (3, 3)
    else:
        coords, ksize = np.arange(-radius, radius + 1), (5, 5)
    xx, yy = np.meshgrid(coords, coords)
    kernel = np.array((xx**2 + yy**2) <= radius**2, dtype=np.float32)
    kernel /= kernel.sum()
    return torch.from_numpy(cv2.GaussianBlur(kernel, ksize=ksize, sigmaX=alias_blur))


def _per_image(seeds: list[int], draw, device: torch.device) -> torch.Tensor:
    """Stack one draw per image, each from its own seeded generator (independent of batching)."""
    return torch.stack([draw(torch.Generator(device).manual_seed(seed)) for seed in seeds])


def corrupt_batch(images: torch.Tensor, name: str, severity: int, seeds: list[int]) -> torch.Tensor:
    """Batched corruption of uint8 (N, 3, H, W) images, one seed per image; only the names in BATCHED."""
    check(name, severity)
    if name not in BATCHED:
        raise BrainlikeError(f"{name} has no batched version; use corrupt()")
    if len(seeds) != len(images):
        raise ValueError("one seed per image is needed")
    x = images.float() / 255
    shape, device = x.shape[1:], x.device
    s = severity - 1
    if name == "gaussian_noise":
        noise = _per_image(seeds, lambda g: torch.randn(shape, generator=g, device=device), device)
        return _to_uint8(x + noise * _GAUSSIAN_SCALE[s])
    if name == "shot_noise":
        rate = _SHOT_RATE[s]
        counts = torch.stack(
            [
                torch.poisson(image * rate, generator=torch.Generator(device).manual_seed(seed))
                for image, seed in zip(x, seeds)
            ]
        )
        return _to_uint8(counts / rate)
    if name == "impulse_noise":
        # salt and pepper: a fraction `amount` of the values, half set to 1 and half to 0
        amount = _IMPULSE_AMOUNT[s]
        draws = _per_image(seeds, lambda g: torch.rand((2, *shape), generator=g, device=device), device)
        hit, salt = draws[:, 0] < amount, draws[:, 1] < 0.5
        return _to_uint8(torch.where(hit, salt.to(x.dtype), x))
    if name == "contrast":
        means = x.mean(dim=(2, 3), keepdim=True)
        return _to_uint8((x - means) * _CONTRAST[s] + means)
    if name == "brightness":
        # Adding c to HSV value keeps hue and saturation: every channel scales by V'/V (grey if V=0).
        value = x.amax(dim=1, keepdim=True)
        brighter = (value + _BRIGHTNESS[s]).clamp(0, 1)
        scaled = torch.where(value > 0, x * brighter / value.clamp_min(1e-12), brighter.expand_as(x))
        return _to_uint8(scaled)
    return _to_uint8(_filter2d_reflect(x, _disk(*_DEFOCUS[s]).to(device)))


def _filter2d_reflect(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """OpenCV's filter2D (correlation, reflect-101 borders) on every channel, by FFT."""
    pad = kernel.shape[0] // 2
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    size = padded.shape[-2:]
    spectrum = torch.fft.rfft2(padded) * torch.fft.rfft2(kernel.flip(0, 1), s=size)
    return torch.fft.irfft2(spectrum, s=size)[..., 2 * pad :, 2 * pad :]
