"""Difference-of-Gaussians (centre-surround) convolution with learnable widths and sign.

After Pogoncheff, Granley & Beyeler (2023), "Explaining V1 properties with a biologically constrained
deep learning architecture", NeurIPS. One DoG kernel per (out, in) channel pair, with widths
sigma1 (centre) and sigma2 = sigma1 * sigma2_scale (surround) and a signed gain `total_scale`
(ON- or OFF-centre). Sigmas act as variances: G(d) = exp(-d^2 / sigma).

Two forms:
- "as_coded" (default): the published model's kernel, amplitude sigma/pi for each Gaussian, then
  every pixel of the (out*in) kernel stack scaled to unit L2 norm across channel pairs. With that
  amplitude the surround exceeds the centre everywhere, so every kernel is single-signed (there is
  no antagonistic surround). It is the default because the published checkpoints were trained
  with it: any other form changes what their weights compute.
- "zero_sum": the textbook antagonistic DoG the paper describes. Each Gaussian is normalised to
  unit sum on the kernel grid, so centre minus surround sums to zero exactly; no per-pixel
  normalisation.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.errors import BrainlikeError

DOG_FORMS = ("as_coded", "zero_sum")


class DoGConv2d(nn.Module):
    """A full (channel-mixing) convolution whose kernels are learnable differences of Gaussians.

    Kernel size is 2 * radius + 1. State_dict keys follow the original: `kernel_dists` (fixed
    squared distances), `sigma1`, `sigma2_scale`, `total_scale` (out*in, 1, 1) and `bias` (out;
    frozen zeros when bias=False).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        radius: int = 2,
        stride: int = 1,
        padding: int | None = None,
        bias: bool = False,
        form: str = "as_coded",
    ):
        super().__init__()
        if form not in DOG_FORMS:
            raise BrainlikeError(f"DoG form must be one of {DOG_FORMS}, not {form!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.stride = stride
        self.padding = radius if padding is None else padding
        self.form = form
        offsets = torch.arange(2 * radius + 1, dtype=torch.float32) - radius
        self.kernel_dists = nn.Parameter(offsets.view(-1, 1) ** 2 + offsets.view(1, -1) ** 2, requires_grad=False)
        pairs = out_channels * in_channels
        self.sigma1 = nn.Parameter(torch.rand(pairs, 1, 1) + radius / 2)
        self.sigma2_scale = nn.Parameter(torch.rand(pairs, 1, 1) + radius / 2)
        self.total_scale = nn.Parameter(torch.randn(pairs, 1, 1) * 2)
        self.bias = nn.Parameter(torch.randn(out_channels) if bias else torch.zeros(out_channels), requires_grad=bias)

    def kernel(self) -> torch.Tensor:
        """The (out, in, K, K) kernel of the current parameters."""
        sigma1 = self.sigma1.clamp(min=0.1)
        sigma2 = sigma1 * self.sigma2_scale.clamp(min=1 + 1e-4)
        d2 = self.kernel_dists
        if self.form == "as_coded":
            centre = sigma1 / math.pi * torch.exp(-d2 / sigma1)
            surround = sigma2 / math.pi * torch.exp(-d2 / sigma2.clamp(min=1e-6))
            w = (centre - surround) * self.total_scale
            w = F.normalize(w, dim=0, eps=1e-12)
        else:
            centre = torch.exp(-d2 / sigma1)
            surround = torch.exp(-d2 / sigma2)
            centre = centre / centre.sum(dim=(1, 2), keepdim=True)
            surround = surround / surround.sum(dim=(1, 2), keepdim=True)
            w = (centre - surround) * self.total_scale
        k = w.shape[-1]
        return w.reshape(self.out_channels, self.in_channels, k, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.kernel(), self.bias, stride=self.stride, padding=self.padding)


class PartialDoG(nn.Module):
    """Apply a DoG convolution to the first `dog_channels` channels and pass the rest through.

    Key `dog_conv.*` as in the original `DoGConv2DLayer`.
    """

    def __init__(
        self,
        dog_channels: int,
        *,
        radius: int = 2,
        stride: int = 1,
        padding: int | None = None,
        bias: bool = False,
        form: str = "as_coded",
    ):
        super().__init__()
        self.dog_channels = dog_channels
        self.dog_conv = DoGConv2d(
            dog_channels, dog_channels, radius=radius, stride=stride, padding=padding, bias=bias, form=form
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] < self.dog_channels:
            raise BrainlikeError(f"PartialDoG needs at least {self.dog_channels} channels, got {x.shape[1]}")
        dog, rest = x[:, : self.dog_channels], x[:, self.dog_channels :]
        return torch.cat([self.dog_conv(dog), rest], dim=1)


class ConvThenDoG(nn.Module):
    """A 3x3 convolution followed by a partial DoG (the composite models' layer1 `conv2`)."""

    def __init__(self, channels: int, *, dog_channels: int | None = None, form: str = "as_coded"):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.dog = PartialDoG(channels // 4 if dog_channels is None else dog_channels, radius=2, form=form)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dog(self.conv(x))
