"""The FFT route of large strided kernels, and the Gabor bank's per-colour and FFT paths."""

import pytest
import torch
import torch.nn.functional as F

from brainlike.errors import BrainlikeError
from brainlike.layers.gabor import GaborFilterBank, VOneBlock
from brainlike.layers.spectral import SpectralCorrelation, worth_it

GEOMETRIES = [  # batch, height, width, kernel, stride, padding
    (2, 64, 64, 25, 4, 12),
    (3, 37, 50, 7, 2, 3),
    (2, 31, 29, 5, 1, 2),
    (1, 64, 48, 25, 4, 0),
    (2, 20, 23, 9, 3, 4),
]


def _close(actual, expected, tol=2e-6):
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max() <= tol * expected.abs().max()


@pytest.mark.parametrize("batch, height, width, k, stride, padding", GEOMETRIES)
def test_fft_correlation_equals_direct_convolution(batch, height, width, k, stride, padding):
    generator = torch.Generator().manual_seed(k)
    x = torch.randn(batch, height, width, generator=generator, requires_grad=True)
    kernels = torch.randn(6, k, k, generator=generator)
    direct = F.conv2d(x[:, None], kernels[:, None], stride=stride, padding=padding)
    spectral = torch.cat(SpectralCorrelation(kernels, height=height, width=width, stride=stride, padding=padding)(x))
    _close(spectral, direct)
    weights = torch.randn(direct.shape, generator=generator)
    (grad_direct,) = torch.autograd.grad((direct * weights).sum(), x)
    (grad_spectral,) = torch.autograd.grad((spectral * weights).sum(), x)
    _close(grad_spectral, grad_direct)


def test_fft_correlation_refuses_other_sizes_and_works_in_chunks(monkeypatch):
    kernels = torch.randn(3, 9, 9)
    correlation = SpectralCorrelation(kernels, height=32, width=32, stride=2, padding=4)
    with pytest.raises(ValueError, match="32x32"):
        correlation(torch.randn(1, 30, 32))
    x = torch.randn(5, 32, 32)
    whole = torch.cat(correlation(x))
    monkeypatch.setattr("brainlike.layers.spectral.CHUNK_BYTES", 1)
    chunks = correlation(x)
    assert len(chunks) == 5 and torch.equal(torch.cat(chunks), whole)


def test_fft_is_chosen_only_for_kernels_much_larger_than_the_stride():
    assert worth_it(25, 4) and worth_it(7, 1)
    assert not worth_it(7, 4) and not worth_it(3, 1) and not worth_it(5, 1)


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


def test_noise_equals_its_formula():
    block = VOneBlock(simple_channels=2, complex_channels=2, noise_scale=0.35, noise_level=0.07)
    block.fix_noise(5)
    g = torch.rand(2, 4, 6, 6) * 30 - 5
    eps = torch.randn(g.shape, generator=torch.Generator().manual_seed(5))
    u = 0.35 * g + 0.07
    expected = (u + eps * torch.sqrt(F.relu(u) + 1e-4) - 0.07) / 0.35
    torch.testing.assert_close(block.add_noise(g), expected, rtol=1e-5, atol=1e-5)
    block.set_noise("gaussian", scale=0.5)
    torch.testing.assert_close(block.add_noise(g), g + 0.5 * eps)
