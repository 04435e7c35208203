"""Convolution with kernels that each read a single input channel, run one input channel at a time.

When every kernel of a weight (out, in, k, k) is zero on all input channels but one, a full
convolution spends most of its work multiplying those zeros (two thirds of it on RGB images).
Grouping the output channels by the input channel they read, and convolving each input channel with
only its own kernels, gives the same sums in another order. `kernels.dispatch` decides when this
pays and whether each group goes through the frequency domain (`kernels.spectral`), by measurement
(`kernels.calibration`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from brainlike.kernels.calibration import batch_class, choose
from brainlike.kernels.dispatch import spectral_possible, use_fft, use_groups
from brainlike.kernels.spectral import SpectralCorrelation


class ChannelGroups:
    """Per input channel c: the output rows whose kernels read c and those kernels (rows, 1, k, k);
    and their spectra per input size once the FFT route has asked for them."""

    def __init__(self, groups: list[tuple[int, torch.Tensor, torch.Tensor]], channels: int):
        self.groups, self.channels = groups, channels
        self._spectra: dict[tuple, SpectralCorrelation] = {}

    def spectral(self, channel: int, kernels: torch.Tensor, **geometry: int) -> SpectralCorrelation:
        """The FFT correlation of `channel`'s kernels (from `groups`) for one input geometry."""
        key = (channel, *sorted(geometry.items()))
        if key not in self._spectra:
            self._spectra[key] = SpectralCorrelation(kernels[:, 0], **geometry)
        return self._spectra[key]

    @classmethod
    def of(cls, weight: torch.Tensor) -> "ChannelGroups | None":
        """The groups of a (out, in, k, k) weight, or None if some kernel reads several input channels."""
        reads = weight.flatten(2).ne(0).any(dim=2)  # (out, in): which inputs each kernel reads
        if weight.shape[1] == 1 or bool((reads.sum(dim=1) > 1).any()):
            return None
        source = reads.to(torch.uint8).argmax(dim=1)  # an all-zero kernel counts as reading channel 0
        groups = []
        for c in range(weight.shape[1]):
            rows = torch.nonzero(source == c).flatten()
            if rows.numel():
                groups.append((c, rows, weight[rows, c : c + 1].contiguous()))
        return cls(groups, weight.shape[0])


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.device == b.device and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)


class GroupedConv2d:
    """F.conv2d(x, weight[channels], stride, padding), by input-channel groups where that pays.

    Holds the groups of each output slice it was called with, and rebuilds them whenever the weight
    differs from the one they were made from, however it was changed (load_state_dict, in-place
    writes, a move to another device). Falls back to the full convolution when some kernel reads
    several input channels.
    """

    def __init__(self):
        self._cache: dict = {}

    def groups(self, weight: torch.Tensor, channels: slice) -> ChannelGroups | None:
        weight = weight.detach()[channels]
        key = (channels.start, channels.stop, channels.step)
        cached = self._cache.get(key)
        if cached is None or not _same(cached[0], weight):
            cached = (weight.clone(), ChannelGroups.of(weight))
            self._cache[key] = cached
        return cached[1]

    def __call__(
        self,
        x: torch.Tensor,
        weight: torch.Tensor,
        channels: slice = slice(None),
        *,
        stride: int,
        padding: int,
        algorithm: str = "auto",
    ) -> torch.Tensor:
        def full() -> torch.Tensor:
            return F.conv2d(x, weight[channels], stride=stride, padding=padding)

        split = self.groups(weight, channels) if use_groups(x, algorithm) else None
        if split is None:
            return full()
        k = weight.shape[-1]
        fft_rule = use_fft(x, kernel_size=k, stride=stride, algorithm=algorithm)
        if algorithm == "fft":
            return self._grouped(x, split, stride, padding, fft=True)
        routes = {"direct": full, "grouped": lambda: self._grouped(x, split, stride, padding, fft=False)}
        if algorithm == "auto" and spectral_possible(x):
            routes["fft"] = lambda: self._grouped(x, split, stride, padding, fft=True)
        shape_class = (batch_class(len(x)), *x.shape[1:], split.channels, k, stride, str(x.dtype))
        route = choose("grouped", shape_class, routes, rule="fft" if fft_rule else "grouped")
        return routes[route]()

    @staticmethod
    def _grouped(x: torch.Tensor, split: ChannelGroups, stride: int, padding: int, *, fft: bool) -> torch.Tensor:
        height, width = x.shape[-2:]
        k = split.groups[0][2].shape[-1]
        size = ((height + 2 * padding - k) // stride + 1, (width + 2 * padding - k) // stride + 1)
        out = x.new_empty(x.shape[0], split.channels, *size)
        for c, rows, kernels in split.groups:
            if fft:
                first = 0
                geometry = dict(height=height, width=width, stride=stride, padding=padding)
                for chunk in split.spectral(c, kernels, **geometry)(x[:, c]):
                    out.narrow(0, first, len(chunk)).index_copy_(1, rows, chunk)
                    first += len(chunk)
            else:
                out.index_copy_(1, rows, F.conv2d(x[:, c : c + 1], kernels, stride=stride, padding=padding))
        return out
