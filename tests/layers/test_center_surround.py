"""DoG convolutions: the published (as-coded) kernel and the zero-sum antagonistic form."""

import math

import pytest
import torch

from brainlike.errors import BrainlikeError
from brainlike.layers.center_surround import ConvThenDoG, DoGConv2d, PartialDoG


def _set(dog, sigma1, scale, total):
    with torch.no_grad():
        dog.sigma1.copy_(torch.tensor(sigma1).view(-1, 1, 1))
        dog.sigma2_scale.copy_(torch.tensor(scale).view(-1, 1, 1))
        dog.total_scale.copy_(torch.tensor(total).view(-1, 1, 1))


def _as_coded(d2, s1, s2):
    return s1 / math.pi * math.exp(-d2 / s1) - s2 / math.pi * math.exp(-d2 / s2)


def test_kernel_distances_are_centred_squared_distances():
    d = DoGConv2d(1, 1, radius=2).kernel_dists
    assert d[2, 2] == 0 and d[0, 0] == 8 and d[0, 2] == 4 and d.sum() == 100
    assert not d.requires_grad


def test_as_coded_kernel_follows_the_published_formula():
    dog = DoGConv2d(1, 2, radius=2)
    _set(dog, [1.5, 1.2], [1.5, 2.0], [1.0, -0.5])
    k = dog.kernel()
    # Per-pixel L2 normalisation over the (out, in) pairs: the ratio of two pairs is the raw ratio.
    for r, c in [(2, 2), (0, 0), (1, 3)]:
        d2 = (r - 2) ** 2 + (c - 2) ** 2
        raw_a, raw_b = _as_coded(d2, 1.5, 2.25), -0.5 * _as_coded(d2, 1.2, 2.4)
        assert (k[0, 0, r, c] / k[1, 0, r, c]).item() == pytest.approx(raw_a / raw_b, rel=1e-5)
    assert _as_coded(0, 1.5, 2.25) == pytest.approx(-0.239, abs=1e-3)
    assert _as_coded(8, 1.5, 2.25) == pytest.approx(-0.018, abs=1e-3)
    torch.testing.assert_close(k.pow(2).sum(dim=(0, 1)), torch.ones(5, 5))


def test_as_coded_kernels_are_single_signed():
    dog = DoGConv2d(4, 4, radius=2)
    k = dog.kernel()
    sign = -torch.sign(dog.total_scale.view(4, 4, 1, 1))
    assert (torch.sign(k) == sign).all()


def test_zero_sum_form_integrates_to_zero_and_is_antagonistic():
    dog = DoGConv2d(3, 3, radius=4, form="zero_sum")
    k = dog.kernel()
    sums = k.sum(dim=(2, 3))
    assert (sums.abs() < 1e-6 * k.abs().sum(dim=(2, 3))).all()
    centre_sign = torch.sign(k[:, :, 4, 4])
    corner_sign = torch.sign(k[:, :, 0, 0])
    assert (centre_sign == torch.sign(dog.total_scale.view(3, 3))).all()
    assert (centre_sign == -corner_sign).all()


def test_sigmas_are_clamped():
    dog = DoGConv2d(1, 1)
    _set(dog, [-3.0], [0.2], [1.0])
    clamped = DoGConv2d(1, 1)
    _set(clamped, [0.1], [1 + 1e-4], [1.0])
    torch.testing.assert_close(dog.kernel(), clamped.kernel())


def test_conv_applies_the_kernel_with_frozen_zero_bias():
    dog = DoGConv2d(2, 3, radius=2)
    assert dog.bias.shape == (3,) and not dog.bias.requires_grad and (dog.bias == 0).all()
    x = torch.randn(1, 2, 9, 9)
    torch.testing.assert_close(dog(x), torch.nn.functional.conv2d(x, dog.kernel(), padding=2))
    assert dog(x).shape == (1, 3, 9, 9)


def test_partial_dog_passes_the_other_channels_through():
    layer = ConvThenDoG(8)
    assert layer.dog.dog_channels == 2
    x = torch.randn(2, 8, 6, 6)
    conv = layer.conv(x)
    y = layer(x)
    torch.testing.assert_close(y[:, 2:], conv[:, 2:])
    torch.testing.assert_close(y[:, :2], layer.dog.dog_conv(conv[:, :2]))
    y.sum().backward()
    assert layer.dog.dog_conv.sigma1.grad is not None
    with pytest.raises(BrainlikeError):
        PartialDoG(4)(torch.randn(1, 2, 5, 5))
    with pytest.raises(BrainlikeError):
        DoGConv2d(1, 1, form="mexican")
