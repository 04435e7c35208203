"""Which of the equivalent convolution routes to take for one input on this machine.

The routes give the same sums up to float32 rounding, so the choice is one of speed only. On CPUs a
weight whose kernels each read one input channel may be convolved one input channel at a time
(`kernels.grouped`), and float32 inputs may go through the frequency domain (`kernels.spectral`);
which is faster is measured (`kernels.calibration`), and these shape rules are what
BRAINLIKE_FAST_PATHS=on takes instead. On GPUs cuDNN already runs the one full convolution fast, so
"auto" leaves it alone; "fft" forces the frequency domain on any device, "direct" turns it off.
"""

from __future__ import annotations

import torch

from brainlike.errors import BrainlikeError

ALGORITHMS = ("auto", "direct", "fft")


def check_algorithm(value: str) -> str:
    if value not in ALGORITHMS:
        raise BrainlikeError(f"algorithm must be one of {ALGORITHMS}, not {value!r}")
    return value


def worth_it(kernel_size: int, stride: int) -> bool:
    """Whether the FFT route does clearly less arithmetic than direct convolution: per output value,
    k^2 multiply-adds against s^2 complex ones (4 real) plus the inverse FFT's share (~30 flops)."""
    return kernel_size * kernel_size >= 4 * stride * stride + 32


def use_groups(x: torch.Tensor, algorithm: str) -> bool:
    """Whether to convolve x one input channel at a time: on CPUs, where the zero kernels of the other
    channels cost as much as any, and for the FFT route, which correlates single-channel kernels."""
    return x.device.type == "cpu" or algorithm == "fft"


def spectral_possible(x: torch.Tensor) -> bool:
    """Whether the frequency-domain route is a candidate for x: float32 CPU inputs outside autocast."""
    return x.device.type == "cpu" and x.dtype == torch.float32 and not torch.is_autocast_enabled("cpu")


def use_fft(x: torch.Tensor, *, kernel_size: int, stride: int, algorithm: str) -> bool:
    """The shape rule: whether x goes through the frequency domain, forced by `algorithm`, or, for
    "auto", when it is possible and the kernels are large enough for it to do clearly less arithmetic.
    `kernels.calibration` measures instead unless BRAINLIKE_FAST_PATHS=on."""
    if algorithm != "auto":
        return algorithm == "fft"
    return spectral_possible(x) and worth_it(kernel_size, stride)
