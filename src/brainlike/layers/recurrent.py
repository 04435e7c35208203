"""Recurrent building blocks: the gated two-stream area of BLT-VS and the B/L/T layer of the BLT family.

`GatedTwoStreamArea` keeps a bottom-up (BU) and a top-down (TD) map. Its inputs are optional: an
absent input contributes nothing, exactly as a missing connection would. The TD drive from above
gates the BU output through 2*sigmoid, the BU drive from below gates the TD output the same way, and
each stream ends in a GroupNorm(1, C), i.e. a layer norm over (C, H, W) with per-channel affine
parameters (Thorat, Aldegheri & Kietzmann 2024).

`RecurrentConvLayer` sums a bottom-up convolution with optional lateral and top-down convolutions,
normalises and rectifies (Spoerer, McClure & Kriegeskorte 2017).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

Maybe = torch.Tensor | None


def gate(x: torch.Tensor) -> torch.Tensor:
    """2*sigmoid(x): 1 for no signal, between 0 and 2 otherwise."""
    return 2 * torch.sigmoid(x)


def total(*terms: Maybe) -> Maybe:
    """The sum of the present terms, in order; None when none is present."""
    present = [t for t in terms if t is not None]
    if not present:
        return None
    result = present[0]
    for term in present[1:]:
        result = result + term
    return result


def _separable(channels_in: int, channels_out: int, kernel_size: int) -> tuple[nn.Conv2d, nn.Conv2d]:
    """A grouped 'same' conv (depthwise when the channel counts match) followed by a 1x1 conv."""
    groups = math.gcd(channels_in, channels_out)
    spatial = nn.Conv2d(channels_in, channels_out, kernel_size, padding="same", groups=groups)
    return spatial, nn.Conv2d(channels_out, channels_out, 1)


class AreaOutput(NamedTuple):
    """What one call of an area produced. `bottom_up`, `top_down` and `skip_top_down` are the raw
    convolution results, returned so that a caller can reuse them when the same input comes again."""

    bu: Maybe
    td: Maybe
    bottom_up: Maybe
    top_down: Maybe
    skip_top_down: Maybe


class GatedTwoStreamArea(nn.Module):
    """A cortical area with a bottom-up and a top-down stream that gate each other.

    Submodules exist only for the connections asked for, so the state_dict holds exactly those:
    `bu_conv` always; `bu_l_conv_*` when `lateral_kernel` > 0; `td_conv` (a transposed conv that
    mirrors the bottom-up conv of the area above) when `top_down_channels` is set, and `td_l_conv_*`
    when both are; `skip_bu_*` / `skip_td_*` (grouped 'same' conv + 1x1) when their channels are set.
    The taps `output_bu` and `output_td` hold no parameters; the model passes each step's maps
    through them.
    """

    def __init__(
        self,
        *,
        in_channels: int,
        channels: int,
        kernel_size: int,
        stride: int = 1,
        lateral_kernel: int = 0,
        top_down_channels: int | None = None,
        top_down_kernel: int = 1,
        top_down_stride: int = 1,
        skip_bu_channels: int | None = None,
        skip_bu_kernel: int = 1,
        skip_td_channels: int | None = None,
        skip_td_kernel: int = 1,
    ):
        super().__init__()
        self.bu_conv = nn.Conv2d(in_channels, channels, kernel_size, stride, (kernel_size - 1) // 2)
        if lateral_kernel > 0:
            self.bu_l_conv_depthwise, self.bu_l_conv_pointwise = _separable(channels, channels, lateral_kernel)
        if top_down_channels:
            self.td_conv = nn.ConvTranspose2d(
                top_down_channels, channels, top_down_kernel, top_down_stride, (top_down_kernel - 1) // 2
            )
            if lateral_kernel > 0:
                self.td_l_conv_depthwise, self.td_l_conv_pointwise = _separable(channels, channels, lateral_kernel)
        if skip_bu_channels:
            self.skip_bu_depthwise, self.skip_bu_pointwise = _separable(skip_bu_channels, channels, skip_bu_kernel)
        if skip_td_channels:
            self.skip_td_depthwise, self.skip_td_pointwise = _separable(skip_td_channels, channels, skip_td_kernel)
        self.layer_norm_bu = nn.GroupNorm(1, channels)
        self.layer_norm_td = nn.GroupNorm(1, channels)
        self.output_bu = nn.Identity()
        self.output_td = nn.Identity()

    def _pair(self, x: Maybe, prefix: str) -> Maybe:
        spatial = getattr(self, f"{prefix}depthwise", None)
        if x is None or spatial is None:
            return None
        return getattr(self, f"{prefix}pointwise")(spatial(x))

    def resting_td(self, like: torch.Tensor) -> torch.Tensor:
        """The TD map of an area without TD drive: GroupNorm of zeros is its bias, broadcast."""
        # A copy, not a view of the parameter: hooks and autograd then see an ordinary tensor.
        return self.layer_norm_td.bias.view(1, -1, 1, 1).to(like.dtype).expand_as(like).contiguous()

    def forward(
        self,
        bu: Maybe = None,
        bu_l: Maybe = None,
        td: Maybe = None,
        td_l: Maybe = None,
        skip_bu: Maybe = None,
        skip_td: Maybe = None,
        *,
        bottom_up: Maybe = None,
        top_down: Maybe = None,
        skip_top_down: Maybe = None,
        streams: Sequence[str] = ("bu", "td"),
    ) -> AreaOutput:
        """One update. bu: BU map of the area below (or the image); bu_l / td_l: this area's own maps;
        td: TD map of the area above; skip_bu / skip_td: the skip sources. `bottom_up`, `top_down`
        and `skip_top_down` stand in for `bu_conv(bu)`, `td_conv(td)` and the TD skip when the
        caller already has them. `streams` names the outputs wanted; the others come back as None.
        """
        b = bottom_up if bottom_up is not None else (self.bu_conv(bu) if bu is not None else None)
        d = top_down
        if d is None and td is not None and hasattr(self, "td_conv"):
            if b is None:
                raise RuntimeError("a top-down input needs the bottom-up input for its output size")
            d = self.td_conv(td, output_size=b.shape[-2:])
        st = skip_top_down if skip_top_down is not None else self._pair(skip_td, "skip_td_")
        sb = self._pair(skip_bu, "skip_bu_")
        bu_mod, td_mod = total(b, sb), total(d, st)
        bu_out = td_out = None
        if "bu" in streams:
            bu_drive = total(b, self._pair(bu_l, "bu_l_conv_"), sb)
            bu_out = self._gated(bu_drive, td_mod, self.layer_norm_bu)
        if "td" in streams:
            td_drive = total(d, self._pair(td_l, "td_l_conv_"), st)
            td_out = self._gated(td_drive, bu_mod, self.layer_norm_td)
        return AreaOutput(bu_out, td_out, b, d, st)

    @staticmethod
    def _gated(drive: Maybe, modulator: Maybe, norm: nn.GroupNorm) -> Maybe:
        if modulator is not None:
            out = F.relu(drive) * gate(modulator) if drive is not None else torch.zeros_like(modulator)
        elif drive is not None:
            out = F.relu(drive)
        else:
            return None
        return norm(out)


class RecurrentConvLayer(nn.Module):
    """Bottom-up conv, plus a lateral conv of the layer's previous output and a top-down transposed
    conv of the previous output of the layer above, summed, normalised and rectified.

    norm: "batch" (a BatchNorm per time step, as in Spoerer et al. 2020) or "layer" (one
    GroupNorm(1, C) shared over steps). The top-down path upsamples by `top_down_stride` to this
    layer's size.
    """

    def __init__(
        self,
        *,
        in_channels: int,
        channels: int,
        kernel_size: int,
        stride: int = 1,
        lateral: bool = False,
        top_down_channels: int | None = None,
        top_down_stride: int = 2,
        steps: int = 1,
        norm: str = "batch",
    ):
        super().__init__()
        if norm not in ("batch", "layer"):
            raise ValueError(f"norm must be 'batch' or 'layer', not {norm!r}")
        pad = kernel_size // 2
        self.bottom_up = nn.Conv2d(in_channels, channels, kernel_size, stride, pad, bias=False)
        self.lateral = nn.Conv2d(channels, channels, kernel_size, padding=pad, bias=False) if lateral else None
        # kernel = stride + 2 * padding maps size n back to exactly stride * n; output_size adds the rest.
        td_pad = max(1, top_down_stride // 2)
        self.top_down = (
            nn.ConvTranspose2d(
                top_down_channels, channels, top_down_stride + 2 * td_pad, top_down_stride, td_pad, bias=False
            )
            if top_down_channels
            else None
        )
        if norm == "batch":
            self.norms = nn.ModuleList(nn.BatchNorm2d(channels) for _ in range(steps))
        else:
            self.norms = nn.ModuleList([nn.GroupNorm(1, channels)])
        self.output = nn.Identity()

    def forward(self, drive: torch.Tensor, *, own: Maybe = None, above: Maybe = None, step: int = 0) -> torch.Tensor:
        """drive: this step's bottom-up conv result (see `bottom_up`); own / above: previous outputs."""
        lateral = self.lateral(own) if self.lateral is not None and own is not None else None
        top_down = None
        if self.top_down is not None and above is not None:
            top_down = self.top_down(above, output_size=drive.shape[-2:])
        norm = self.norms[min(step, len(self.norms) - 1)]
        return self.output(F.relu(norm(total(drive, lateral, top_down))))
