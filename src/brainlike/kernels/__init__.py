"""Compute kernels with no biology in them: faster routes to the same convolutions and noise.

- `winograd`: 3x3 stride-1 convolution by Winograd's F(2x2, 3x3), for wide layers in CPU inference.
- `spectral`: strided cross-correlation with large single-channel kernels, by FFT.
- `grouped`: convolution with kernels that each read one input channel, one input channel at a time.
- `dispatch`: which of those equivalent routes to take for an input on this machine.
- `noise`: standard normal noise drawn on all CPU threads, reproducible from a seed.

This room imports nothing of brainlike but `brainlike.errors`, so every other room may use it.
"""

from brainlike.kernels.dispatch import ALGORITHMS, check_algorithm, use_fft, use_groups, worth_it
from brainlike.kernels.grouped import ChannelGroups, GroupedConv2d
from brainlike.kernels.noise import standard_normal_cpu, standard_normal_like
from brainlike.kernels.spectral import SpectralCorrelation
from brainlike.kernels.winograd import SharedKernel3x3, applies, conv3x3, tile_count, transform_kernel

__all__ = [
    "ALGORITHMS",
    "ChannelGroups",
    "GroupedConv2d",
    "SharedKernel3x3",
    "SpectralCorrelation",
    "applies",
    "check_algorithm",
    "conv3x3",
    "standard_normal_cpu",
    "standard_normal_like",
    "tile_count",
    "transform_kernel",
    "use_fft",
    "use_groups",
    "worth_it",
]
