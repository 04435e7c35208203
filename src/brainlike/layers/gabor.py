"""Gabor filters in pixel units and a fixed, strided Gabor filter bank with one colour per kernel.

Convention (kept from the original VOneNet so that kernels can be regenerated identically): the kernel
grid is indexed (row, column) = (x, y), x running down the rows, so theta = 0 modulates along the
rows and gives horizontal stripes (Brain-Score's gratings call vertical stripes 0 deg).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from brainlike.kernels.dispatch import ALGORITHMS, check_algorithm
from brainlike.kernels.grouped import GroupedConv2d


def gabor_kernels(
    *,
    frequency: torch.Tensor,
    theta: torch.Tensor,
    sigma_x: torch.Tensor,
    sigma_y: torch.Tensor,
    phase: torch.Tensor,
    size: int,
) -> torch.Tensor:
    """(N, size, size) Gabors in pixel units: frequency in cycles/px, angles in radians, sigmas in px.

    g(x, y) = exp(-(x'^2/sx^2 + y'^2/sy^2)/2) / (2 pi sx sy) * cos(2 pi f x' + phase), with
    x' = x cos(theta) + y sin(theta), y' = -x sin(theta) + y cos(theta), x the row offset.
    """
    half = size // 2
    offsets = torch.arange(-half, size - half, dtype=torch.float64)
    x, y = torch.meshgrid(offsets, offsets, indexing="ij")
    cast = [
        torch.as_tensor(v, dtype=torch.float64).reshape(-1, 1, 1) for v in (frequency, theta, sigma_x, sigma_y, phase)
    ]
    f, th, sx, sy, ph = cast
    x_rot = x * torch.cos(th) + y * torch.sin(th)
    y_rot = -x * torch.sin(th) + y * torch.cos(th)
    envelope = torch.exp(-0.5 * (x_rot**2 / sx**2 + y_rot**2 / sy**2)) / (2 * math.pi * sx * sy)
    return (envelope * torch.cos(2 * math.pi * f * x_rot + ph)).float()


class GaborFilterBank(nn.Module):
    """A strided convolution with fixed Gabor kernels, each on one input colour channel.

    The kernels are a frozen `weight` Parameter (out, in, k, k) so that checkpoints keep the
    original `....weight` key; they are never trained. On CPUs, when every kernel reads a single input
    channel (always so for sampled kernels and for the published checkpoints), the convolution runs
    once per input channel with only the kernels that read it (`kernels.grouped`): a third of the work
    on RGB images, the same sums in another order. Float32 inputs with kernels much larger than the
    stride (the VOne block's 25 px at stride 4) then go through the frequency domain
    (`kernels.spectral`), several times less work again. `algorithm = "direct"` turns the FFT off;
    `"fft"` forces it, on any device. Elsewhere (GPUs) the default is the one full convolution, which
    cuDNN already runs fast (`kernels.dispatch`).
    """

    ALGORITHMS = ALGORITHMS

    def __init__(self, *, in_channels: int = 3, out_channels: int, kernel_size: int = 25, stride: int = 4):
        super().__init__()
        self.stride = stride
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(
            torch.zeros(out_channels, in_channels, kernel_size, kernel_size), requires_grad=False
        )
        self.algorithm = "auto"
        self._grouped = GroupedConv2d()

    def set_kernels(self, kernels: torch.Tensor, colour_channels: torch.Tensor) -> None:
        """Write kernel c on input channel colour_channels[c]; the other input channels stay zero."""
        with torch.no_grad():
            self.weight.zero_()
            rows = torch.arange(self.weight.shape[0])
            self.weight[rows, colour_channels] = kernels.to(self.weight.dtype)

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @algorithm.setter
    def algorithm(self, value: str) -> None:
        self._algorithm = check_algorithm(value)

    def forward(self, x: torch.Tensor, channels: slice = slice(None)) -> torch.Tensor:
        return self._grouped(
            x, self.weight, channels, stride=self.stride, padding=self.padding, algorithm=self.algorithm
        )
