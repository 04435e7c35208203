"""Gabor kernels, and the Gabor bank's per-colour and FFT paths."""

import math

import pytest
import torch
import torch.nn.functional as F

from brainlike.errors import BrainlikeError
from brainlike.layers.gabor import GaborFilterBank, gabor_kernels


def test_kernels_equal_the_analytic_formula():
    f, theta, sx, sy, phase, size = 0.11, 0.7, 3.0, 5.0, 1.2, 9
    ours = gabor_kernels(
        frequency=torch.tensor([f]),
        theta=torch.tensor([theta]),
        sigma_x=torch.tensor([sx]),
        sigma_y=torch.tensor([sy]),
        phase=torch.tensor([phase]),
        size=size,
    )[0]
    for row in range(size):
        for col in range(size):
            x, y = row - size // 2, col - size // 2
            xr = x * math.cos(theta) + y * math.sin(theta)
            yr = -x * math.sin(theta) + y * math.cos(theta)
            value = (
                math.exp(-0.5 * (xr**2 / sx**2 + yr**2 / sy**2))
                / (2 * math.pi * sx * sy)
                * math.cos(2 * math.pi * f * xr + phase)
            )
            assert ours[row, col].item() == pytest.approx(value, abs=1e-7)


def test_theta_zero_gives_horizontal_stripes():
    k = gabor_kernels(
        frequency=torch.tensor([0.25]),
        theta=torch.tensor([0.0]),
        sigma_x=torch.tensor([1e3]),
        sigma_y=torch.tensor([1e3]),
        phase=torch.tensor([0.0]),
        size=9,
    )[0]
    assert torch.allclose(k, k[:, :1].expand_as(k), rtol=1e-4)
    assert not torch.allclose(k, k[:1].expand_as(k), rtol=1e-2)


def _close(actual, expected, tol=2e-6):
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max() <= tol * expected.abs().max()


def _bank(kernel_size=15, stride=2, out_channels=10, seed=0):
    generator = torch.Generator().manual_seed(seed)
    bank = GaborFilterBank(out_channels=out_channels, kernel_size=kernel_size, stride=stride)
    colours = torch.randint(0, 3, (out_channels,), generator=generator)
    bank.set_kernels(torch.randn(out_channels, kernel_size, kernel_size, generator=generator), colours)
    return bank


@pytest.mark.parametrize("algorithm", GaborFilterBank.ALGORITHMS)
def test_gabor_bank_paths_equal_the_full_convolution(algorithm):
    bank = _bank()
    bank.algorithm = algorithm
    x = torch.randn(3, 3, 40, 36)
    for channels in (slice(None), slice(4, None)):
        expected = F.conv2d(x, bank.weight[channels], stride=2, padding=7)
        _close(bank(x, channels), expected)


def test_gabor_bank_follows_weight_changes_and_mixed_colour_kernels():
    bank = _bank()
    x = torch.randn(2, 3, 32, 32)
    bank(x)  # builds the per-colour split and its spectra
    bank.load_state_dict(_bank(seed=1).state_dict())
    _close(bank(x), F.conv2d(x, bank.weight, stride=2, padding=7))
    bank.weight.data[0, :, 3, 3] = 1.0  # one kernel now reads all three channels
    _close(bank(x), F.conv2d(x, bank.weight, stride=2, padding=7))
    with pytest.raises(BrainlikeError, match="algorithm"):
        bank.algorithm = "winograd"
