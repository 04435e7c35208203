"""A synthetic V1 whose units are Gabor filters with known parameters, for ground-truth checks.

Each channel is one Gabor (orientation, spatial frequency, envelope sigma, phase) applied at every
position; a simple channel half-wave rectifies it, a complex channel takes the energy of a
quadrature pair. Every element (channel, y, x) of the `V1.output` tap is a unit.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.registry import Area, ModelCard

INPUT_SIZE = 64
VISUAL_DEGREES = 4.0
PIXELS_PER_DEGREE = INPUT_SIZE / VISUAL_DEGREES
STRIDE = 2


@dataclass(frozen=True)
class GaborUnit:
    orientation: float  # deg, the grating orientation convention of brainlike.data.stimuli
    spatial_frequency: float  # cycles/deg
    sigma: float  # deg, Gaussian envelope
    phase: float = 0.0  # deg
    complex: bool = False

    def orientation_half_width(self) -> float:
        """Half-width (deg) at 1/sqrt(2) of the amplitude response to full-field gratings at the
        preferred SF: the Gabor's spectrum is a Gaussian of s.d. 1/(2 pi sigma) around its frequency,
        and a grating rotated by d lies 2 f sin(d/2) away from it."""
        return math.degrees(2 * math.asin(math.sqrt(math.log(2)) / (4 * math.pi * self.sigma * self.spatial_frequency)))


def gabor_kernel(unit: GaborUnit, phase_shift: float = 0.0) -> torch.Tensor:
    half = math.ceil(3 * unit.sigma * PIXELS_PER_DEGREE)
    offsets = torch.arange(-half, half + 1, dtype=torch.float64) / PIXELS_PER_DEGREE
    v, u = torch.meshgrid(offsets, offsets, indexing="ij")  # v: down, u: right, as in the stimuli
    theta = math.radians(unit.orientation)
    carrier = torch.cos(
        2 * math.pi * unit.spatial_frequency * (u * math.cos(theta) + v * math.sin(theta))
        + math.radians(unit.phase + phase_shift)
    )
    envelope = torch.exp(-(u**2 + v**2) / (2 * unit.sigma**2))
    return (carrier * envelope).float()


class GaborV1(nn.Module):
    def __init__(self, units: list[GaborUnit]):
        super().__init__()
        self.units = units
        size = max(gabor_kernel(u).shape[-1] for u in units)
        kernels = []
        for unit in units:
            for shift in (0.0, 90.0):
                k = gabor_kernel(unit, shift)
                pad = (size - k.shape[-1]) // 2
                kernels.append(F.pad(k, (pad, pad, pad, pad)))
        self.register_buffer("kernels", torch.stack(kernels)[:, None])
        self.register_buffer("is_complex", torch.tensor([u.complex for u in units])[None, :, None, None])
        self.V1 = nn.Sequential(OrderedDict(output=nn.Identity()))
        self.card = ModelCard(
            name="gabor_v1",
            family="test",
            areas=(Area("V1", {"output": "V1.output"}, ((70.0, 170.0),)),),
            input_size=INPUT_SIZE,
            visual_degrees=VISUAL_DEGREES,
            num_classes=len(units),
            preprocessing="half",
            citation="synthetic",
            labels=None,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The gratings are gray, so one input channel carries the whole image.
        pair = F.conv2d(x[:, :1], self.kernels, stride=STRIDE, padding=self.kernels.shape[-1] // 2)
        even, odd = pair[:, 0::2], pair[:, 1::2]
        response = torch.where(self.is_complex, torch.sqrt(even**2 + odd**2), F.relu(even))
        return self.V1.output(response).mean(dim=(2, 3))
