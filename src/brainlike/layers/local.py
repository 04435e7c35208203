"""Locally connected 2-D layer: a convolution whose weights are not shared across positions.

Cortical receptive fields at different positions need not share their weights; Pogoncheff et al.
(2023) use such a layer in layer1 of their V1 ResNet. Weight layout and patch order follow their
code (weight (1, out, in, H_out, W_out, k*k), patches flattened row-major), so checkpoints load
unchanged.

Memory: the direct formulation multiplies the patches (B, 1, in, H, W, k*k) with the weight
(1, out, in, H, W, k*k) and sums, materialising a (B, out, in, H, W, k*k) tensor (kept for the
backward pass too). Here each output position is one small matrix product, batched over positions
with `bmm`, so the largest intermediate is the weight itself or the (B, in*k*k, H*W) patches.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.errors import BrainlikeError


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


class LocallyConnected2d(nn.Module):
    """y[b, o, i, j] = sum_{c, q} patch(x)[b, c, i, j, q] * weight[0, o, c, i, j, q] (+ bias[0, o, i, j]).

    `output_size` fixes the spatial size of the output; inputs of another size are refused.
    init="normal" draws N(0, 1) weights as the original does; "kaiming" scales them by
    sqrt(2 / (in * k * k)), which keeps activations bounded in deep stacks.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        output_size: int | tuple[int, int],
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 0,
        bias: bool = False,
        init: str = "normal",
    ):
        super().__init__()
        if init not in ("normal", "kaiming"):
            raise BrainlikeError(f"init must be 'normal' or 'kaiming', not {init!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.output_size = _pair(output_size)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        h, w = self.output_size
        weight = torch.randn(1, out_channels, in_channels, h, w, kernel_size**2)
        if init == "kaiming":
            weight *= math.sqrt(2.0 / (in_channels * kernel_size**2))
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(torch.randn(1, out_channels, h, w)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        k, s, p = self.kernel_size, self.stride, self.padding
        out_h, out_w = (height + 2 * p - k) // s + 1, (width + 2 * p - k) // s + 1
        if channels != self.in_channels or (out_h, out_w) != self.output_size:
            raise BrainlikeError(
                f"LocallyConnected2d expects {self.in_channels} channels and an output of "
                f"{self.output_size[0]}x{self.output_size[1]}; got {channels} channels and {out_h}x{out_w} "
                f"(input {height}x{width})"
            )
        positions = out_h * out_w
        patches = F.unfold(x, k, padding=p, stride=s).permute(2, 1, 0)  # (HW, in*k*k, B)
        # Moving the positions to the front keeps each (in, k*k) row contiguous in the copy.
        weight = self.weight[0].permute(2, 3, 0, 1, 4).reshape(positions, self.out_channels, -1)
        y = torch.bmm(weight, patches)  # (HW, out, B)
        y = y.permute(2, 1, 0).reshape(batch, self.out_channels, out_h, out_w)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, output_size={self.output_size}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        )
