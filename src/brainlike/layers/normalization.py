"""Divisive normalization across channels: tuned (opponent-channel) and untuned (oriented Gaussian).

Both follow Pogoncheff, Granley & Beyeler (2023, NeurIPS); the untuned form is their port of
Cirincione et al. (openreview KAAbo44qhJV). Parameter names and shapes are theirs, so checkpoints
load unchanged.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.errors import BrainlikeError

CHANNEL_DISTANCES = ("opponent_ring", "neighbour")
_SQRT_2PI = 2.5066  # rounded as in the original


def channel_distances(channels: int, kind: str = "opponent_ring") -> torch.Tensor:
    """(C, C) distances between channels arranged on a ring.

    "opponent_ring" (the published model): D[i, j] = |((j - i) mod C) - C // 2|, largest for j = i
    and zero for the channel opposite, so a channel is normalised least by itself.
    "neighbour": the ring distance min(|i - j|, C - |i - j|), zero for j = i.
    """
    if kind not in CHANNEL_DISTANCES:
        raise BrainlikeError(f"channel distance must be one of {CHANNEL_DISTANCES}, not {kind!r}")
    i = torch.arange(channels).view(-1, 1)
    j = torch.arange(channels).view(1, -1)
    offset = (j - i) % channels
    if kind == "opponent_ring":
        return (offset - channels // 2).abs().float()
    return torch.minimum(offset, channels - offset).float()


class TunedNormalization(nn.Module):
    """y_i = x_i / (sum_j G[i, j] x_j + 1): tuned divisive normalization across channels.

    G[i, j] = N(D[i, j]; 0, sigma_j) with learnable widths sigma_j (clamped >= 0.5), each input
    column normalised to sum 1. No spatial pooling; the constant 1 is fixed.
    Keys: `channel_distances` (fixed), `sigmas`.
    """

    def __init__(self, channels: int, *, distance: str = "opponent_ring"):
        super().__init__()
        self.channel_distances = nn.Parameter(channel_distances(channels, distance), requires_grad=False)
        self.sigmas = nn.Parameter(torch.rand(channels) + channels / 8)

    def weights(self) -> torch.Tensor:
        """The (C_out, C_in) normalisation pool G."""
        sigma = self.sigmas.clamp(min=0.5).view(1, -1)
        g = torch.exp(-(self.channel_distances**2) / (2 * sigma**2)) / (_SQRT_2PI * sigma)
        return g / g.sum(dim=0, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool = self.weights()
        return x / (F.conv2d(x, pool[:, :, None, None]) + 1)


class UntunedNormalization(nn.Module):
    """y = x / (conv(x, G) + |bias|) with G an oriented 2-D Gaussian per channel pair (Cirincione et al.).

    G[o, i] = |A / max(2 pi rho sigma, 0.1)| exp(-q / 2) on a kernel_size^2 grid with 1-based
    coordinates, q the squared distance from the centre (v, w) in the frame rotated by theta and
    scaled by rho and sigma (both floored at 0.1 in the denominators).
    """

    def __init__(self, channels: int, *, kernel_size: int = 3):
        super().__init__()
        shape = (channels, channels, 1, 1)
        self.padding = kernel_size // 2
        self.A = nn.Parameter(torch.rand(shape))
        self.rho = nn.Parameter(torch.rand(shape) + 1)
        self.sigma = nn.Parameter(torch.rand(shape) + 1)
        self.theta = nn.Parameter(torch.rand(shape) * 2 * math.pi)
        self.v = nn.Parameter(torch.randn(shape) + 1)
        self.w = nn.Parameter(torch.randn(shape) + 1)
        self.bias = nn.Parameter(torch.rand(1) + 1)
        coords = torch.arange(1, kernel_size + 1, dtype=torch.float32)
        self.register_buffer("x_coords", coords.view(1, -1).expand(kernel_size, -1).clone())
        self.register_buffer("y_coords", coords.view(-1, 1).expand(-1, kernel_size).clone())

    def weights(self) -> torch.Tensor:
        cos, sin = torch.cos(self.theta), torch.sin(self.theta)
        x_rot = self.x_coords * cos + self.y_coords * sin
        y_rot = -self.x_coords * sin + self.y_coords * cos
        q = (x_rot - self.v) ** 2 / (self.rho**2).clamp(min=0.1) + (y_rot - self.w) ** 2 / (self.sigma**2).clamp(
            min=0.1
        )
        amplitude = (self.A / (2 * math.pi * self.rho * self.sigma).clamp(min=0.1)).abs()
        return amplitude * torch.exp(-q / 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / (F.conv2d(x, self.weights(), padding=self.padding) + self.bias.abs())
