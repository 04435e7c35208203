"""The VOne block: its kernels, simple and complex cells, and noise."""

import math

import pytest
import torch
import torch.nn.functional as F

from brainlike.errors import BrainlikeError
from brainlike.layers.gabor import gabor_kernels
from brainlike.layers.vone import VOneBlock


@pytest.fixture(scope="module")
def block():
    return VOneBlock(simple_channels=8, complex_channels=8, image_size=64, visual_degrees=2, noise_mode=None)


def test_block_kernels_use_the_sampled_parameters_in_degrees(block):
    p = block.gabor_params
    ppd = 64 / 2
    for c in (0, 11):
        f = p["sf"][c] / ppd
        geometry = dict(
            frequency=torch.tensor([f]),
            theta=torch.tensor([math.radians(p["theta"][c])]),
            sigma_x=torch.tensor([p["nx"][c] / f]),
            sigma_y=torch.tensor([p["ny"][c] / f]),
            size=25,
        )
        q0 = gabor_kernels(phase=torch.tensor([math.radians(p["phase"][c])]), **geometry)[0]
        q1 = gabor_kernels(phase=torch.tensor([math.radians(p["phase"][c]) + math.pi / 2]), **geometry)[0]
        w0, w1 = block.simple_conv_q0.weight[c], block.simple_conv_q1.weight[c]
        torch.testing.assert_close(w0[p["colour_q0"][c]], q0)
        torch.testing.assert_close(w1[p["colour_q1"][c]], q1)
        assert (w0 != 0).any(dim=(1, 2)).sum() == 1 and (w1 != 0).any(dim=(1, 2)).sum() == 1
    assert not any(param.requires_grad for param in block.parameters())


def test_simple_and_complex_cells(block):
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    q0 = torch.nn.functional.conv2d(x, block.simple_conv_q0.weight, stride=4, padding=12)
    q1 = torch.nn.functional.conv2d(x, block.simple_conv_q1.weight, stride=4, padding=12)
    expected = 25 * torch.cat([q0[:, :8].relu(), torch.sqrt(q0[:, 8:] ** 2 + q1[:, 8:] ** 2) / math.sqrt(2)], 1)
    y = block(x)
    assert y.shape == (2, 16, 16, 16)
    torch.testing.assert_close(y, expected, rtol=1e-4, atol=1e-4)


def test_noise_off_is_deterministic_and_on_by_default():
    assert VOneBlock(simple_channels=2, complex_channels=2).noise_mode == "neuronal"
    quiet = VOneBlock(simple_channels=4, complex_channels=4, noise_mode=None)
    x = torch.randn(1, 3, 32, 32)
    assert torch.equal(quiet(x), quiet(x))
    quiet.set_noise("gaussian", scale=1.0)
    assert not torch.equal(quiet(x), quiet(x))
    quiet.fix_noise(0)
    assert torch.equal(quiet(x), quiet(x))
    quiet.fix_noise(1)
    first = quiet(x)
    quiet.unfix_noise()
    assert not torch.equal(first, quiet(x))
    with pytest.raises(BrainlikeError):
        quiet.set_noise("poisson")


def test_neuronal_noise_variance_grows_with_the_rate():
    block = VOneBlock(simple_channels=2, complex_channels=2, noise_scale=0.35, noise_level=0.07)
    torch.manual_seed(0)
    for rate in (5.0, 40.0):
        noisy = block.add_noise(torch.full((200_000,), rate))
        assert noisy.mean().item() == pytest.approx(rate, rel=0.02)
        assert noisy.var().item() == pytest.approx((0.35 * rate + 0.07 + 1e-4) / 0.35**2, rel=0.03)


def test_gradients_flow_through_the_noise():
    block = VOneBlock(simple_channels=2, complex_channels=2)
    x = torch.randn(1, 3, 32, 32, requires_grad=True)
    block(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


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
