"""Which of the equivalent convolution routes to take for one input on this machine.

The routes give the same sums up to float32 rounding, so the choice is one of speed only. On CPUs a
weight whose kernels each read one input channel is convolved one input channel at a time
(`kernels.grouped`), and float32 inputs with kernels much larger than the stride go through the
frequency domain (`kernels.spectral`). On GPUs cuDNN already runs the one full convolution fast, so
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


def use_fft(x: torch.Tensor, *, kernel_size: int, stride: int, algorithm: str) -> bool:
    """Whether x goes through the frequency domain: forced by `algorithm`, or, for "auto", float32 CPU
    inputs outside autocast when the kernels are large enough for it to pay."""
    if algorithm != "auto":
        return algorithm == "fft"
    return (
        x.device.type == "cpu"
        and x.dtype == torch.float32
        and not torch.is_autocast_enabled("cpu")
        and worth_it(kernel_size, stride)
    )
