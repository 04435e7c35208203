"""The FFT route of large strided kernels equals direct convolution."""

import pytest
import torch
import torch.nn.functional as F

from brainlike.kernels.spectral import SpectralCorrelation

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
    monkeypatch.setattr("brainlike.kernels.spectral.CHUNK_BYTES", 1)
    chunks = correlation(x)
    assert len(chunks) == 5 and torch.equal(torch.cat(chunks), whole)
