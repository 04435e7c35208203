"""Cortical magnification as a fixed, foveated resampling of a feature map.

- `PolarPooling`: the ring/wedge pooling of Pogoncheff, Granley & Beyeler (2023), as coded: pixels
  are averaged within polar masks (1-px rings near the centre, wider rings outside, 30 wedges),
  the (rings x wedges) map is reflect-padded and resized to the output size. The masks are
  precomputed buffers kept in fp16, as in the published checkpoint.
- `LogPolarSampler`: a general log-polar resampling parameterised in degrees of visual angle,
  nearly uniform inside the fovea and logarithmic in eccentricity outside it.

In both, output rows run from the centre (row 0) outwards and columns sweep the polar angle.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.errors import BrainlikeError

PUBLISHED_RADIUS_BINS = (*range(15), 16, 18, 20, 23)


def polar_masks(size: int, radius_bins, wedges: int) -> torch.Tensor:
    """(rings * wedges, size, size) pooling masks, ring-major, with the original's wedge resampling.

    Every ring whose inner edge lies within the image's inscribed circle has its non-empty wedges
    linearly resampled to `wedges` masks, so small central rings (ring 0 is one pixel) still give
    one mask per wedge; the outer rings are left as they are and may have empty masks.
    """
    centre = size // 2
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    x, y = (cols - centre).float(), (centre - rows).float()
    radius = torch.sqrt(x**2 + y**2)
    angle = torch.atan2(y, x)
    angle = torch.where(y < 0, angle + 2 * math.pi, angle)
    radius_edges = torch.tensor(radius_bins, dtype=torch.float32)
    angle_edges = torch.linspace(0, 2 * math.pi, wedges + 1)
    in_ring = (radius >= radius_edges[:-1, None, None]) & (radius < radius_edges[1:, None, None])
    in_wedge = (angle >= angle_edges[:-1, None, None]) & (angle < angle_edges[1:, None, None])
    masks = (in_ring[:, None] & in_wedge[None]).float()  # (rings, wedges, H, W)
    for ring in range(masks.shape[0]):
        if radius_edges[ring] > centre:
            continue
        filled = masks[ring][masks[ring].flatten(1).sum(1) > 0]
        if len(filled) == 0:
            continue
        resampled = F.interpolate(filled.flatten(1).T[None], size=wedges, mode="linear", align_corners=False)
        masks[ring] = resampled[0].T.reshape(wedges, size, size)
    return masks.flatten(0, 1)


class PolarPooling(nn.Module):
    """Average-pool a (C, size, size) map into polar masks and resize the (rings, wedges) map.

    radius_pad: also reflect-pad the ring axis before resizing (the Brain-Score packaging of the
    model does; the paper code does not). antialias: the tensor Resize's anti-aliasing, which
    torchvision turned on by default in 0.17; which setting the published weights were trained with
    is not known. Inputs must be input_size x input_size.
    Buffers (original keys): `pooling_masks` (rings * wedges, size, size) and `pooling_mask_counts`.
    """

    def __init__(
        self,
        *,
        input_size: int = 32,
        output_size: int = 16,
        radius_bins=PUBLISHED_RADIUS_BINS,
        wedges: int = 30,
        radius_pad: bool = False,
        antialias: bool = True,
    ):
        super().__init__()
        self.input_size, self.output_size = input_size, output_size
        self.rings, self.wedges = len(radius_bins) - 1, wedges
        self.radius_pad, self.antialias = radius_pad, antialias
        masks = polar_masks(input_size, radius_bins, wedges)
        counts = masks.sum(dim=(1, 2))
        counts = torch.where(counts == 0, torch.ones_like(counts), counts)
        self.register_buffer("pooling_masks", masks.half())
        self.register_buffer("pooling_mask_counts", counts.half())

    def polar_map(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, rings, wedges): the mean of x within each mask (0 for empty masks)."""
        if x.shape[-2:] != (self.input_size, self.input_size):
            raise BrainlikeError(
                f"PolarPooling expects {self.input_size}x{self.input_size} maps, got {x.shape[-2]}x{x.shape[-1]}"
            )
        masks = self.pooling_masks.to(x.dtype).flatten(1)
        pooled = x.flatten(2) @ masks.T / self.pooling_mask_counts.to(x.dtype)
        return pooled.unflatten(2, (self.rings, self.wedges))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.polar_map(x)
        if self.radius_pad:
            y = F.pad(y, (0, 0, 1, 1), mode="reflect")
        y = F.pad(y, (1, 1, 0, 0), mode="reflect")
        return F.interpolate(
            y, size=(self.output_size, self.output_size), mode="bilinear", align_corners=False, antialias=self.antialias
        )


class LogPolarSampler(nn.Module):
    """Resample an image or feature map on a foveated polar grid given in degrees of visual angle.

    The input spans `visual_degrees` (its width). Ring r samples eccentricity
    e_r = e2 ((1 + e_max / e2)^(r / (rings - 1)) - 1), with e2 = `fovea_degrees` and e_max =
    `max_eccentricity` (default: half the field of view): rings are spaced in proportion to e + e2,
    the cortical magnification M(e) ~ 1 / (e + e2) of primate V1 (nearly uniform inside the fovea,
    logarithmic outside). Wedges sample the polar angle uniformly, counter-clockwise from the right.
    Output: (B, C, rings, wedges), bilinear.
    """

    def __init__(
        self,
        *,
        rings: int = 16,
        wedges: int = 16,
        visual_degrees: float = 8.0,
        fovea_degrees: float = 0.5,
        max_eccentricity: float | None = None,
    ):
        super().__init__()
        max_ecc = visual_degrees / 2 if max_eccentricity is None else max_eccentricity
        if not 0 < fovea_degrees < max_ecc:
            raise BrainlikeError(f"need 0 < fovea_degrees ({fovea_degrees}) < max eccentricity ({max_ecc})")
        if rings < 2 or wedges < 1:
            raise BrainlikeError(f"need at least 2 rings and 1 wedge, not {rings} and {wedges}")
        self.visual_degrees = visual_degrees
        position = torch.arange(rings, dtype=torch.float64) / (rings - 1)
        eccentricity = fovea_degrees * ((1 + max_ecc / fovea_degrees) ** position - 1)
        angle = torch.arange(wedges, dtype=torch.float64) * 2 * math.pi / wedges
        # grid_sample's coordinates: x right, y down, both -1..1 across the field of view.
        half_field = visual_degrees / 2
        gx = eccentricity[:, None] * torch.cos(angle)[None] / half_field
        gy = -eccentricity[:, None] * torch.sin(angle)[None] / half_field
        self.register_buffer("grid", torch.stack([gx, gy], dim=-1).float()[None], persistent=False)
        self.register_buffer("eccentricity", eccentricity.float(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grid = self.grid.to(x.dtype).expand(x.shape[0], -1, -1, -1)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
