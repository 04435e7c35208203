"""Gabor kernels, V1 parameter sampling and the VOne block's noise."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import chisquare, spearmanr

from brainlike.errors import BrainlikeError
from brainlike.layers.gabor import VOneBlock, gabor_kernels, sample_gabor_params, v1_histograms

DRAWS = 10_000


@pytest.fixture(scope="module")
def draws():
    return sample_gabor_params(DRAWS, seed=3)


@pytest.fixture(scope="module")
def block():
    return VOneBlock(simple_channels=8, complex_channels=8, image_size=64, visual_degrees=2, noise_mode=None)


def _gof(values, edges, counts):
    observed, _ = np.histogram(values, bins=edges)
    counts = np.asarray(counts, dtype=float)
    keep = counts > 0
    assert observed[~keep].sum() == 0
    expected = counts[keep] / counts.sum() * len(values)
    return chisquare(observed[keep], expected).pvalue


def test_seed_zero_gives_the_original_parameters():
    p = sample_gabor_params(512, seed=0)
    np.testing.assert_allclose(p["sf"][:3], [2.215, 5.434, 4.298], atol=1e-3)
    np.testing.assert_allclose(p["theta"][:3], [106.69, 98.13, 89.77], atol=1e-2)
    assert 0.5 <= p["sf"].min() and p["sf"].max() <= 8
    assert 0.1 <= p["nx"].min() and p["ny"].max() <= 1.585


def test_samples_reproduce_the_source_histograms(draws):
    h = v1_histograms()
    orientation = h["orientation"]
    theta = np.where(draws["theta"] >= 157.5, draws["theta"] - 180, draws["theta"])
    assert _gof(theta, orientation["bins_deg"], orientation["counts"]) > 1e-3
    assert _gof(draws["sf"], h["spatial_frequency"]["bins_cpd"], h["spatial_frequency"]["counts"]) > 1e-3
    joint = h["nx_ny_joint"]
    assert _gof(draws["nx"], joint["bins"], joint["marginal_nx_counts"]) > 1e-3
    observed, _, _ = np.histogram2d(draws["nx"], draws["ny"], bins=[joint["bins"], joint["bins"]])
    counts = np.asarray(joint["counts_rows_nx_cols_ny"], dtype=float).ravel()
    keep = counts > 0
    assert observed.ravel()[~keep].sum() == 0
    assert chisquare(observed.ravel()[keep], counts[keep] / counts.sum() * DRAWS).pvalue > 1e-3
    # Monotone marginals keep the copula's rank correlation: (6 / pi) asin(rho / 2).
    rho = spearmanr(draws["nx"], draws["sf"]).statistic
    assert rho == pytest.approx(6 / math.pi * math.asin(0.75 / 2), abs=0.02)


def test_the_wrong_histogram_is_rejected(draws):
    assert _gof(draws["sf"], v1_histograms()["spatial_frequency"]["bins_cpd"], [1] * 8) < 1e-6


def test_sf_range_truncates_the_histogram():
    p = sample_gabor_params(2000, seed=1, sf_max=4)
    assert p["sf"].max() <= 4 and p["sf"].min() >= 0.5
    with pytest.raises(BrainlikeError):
        sample_gabor_params(10, sf_min=20)


def test_uniform_mode_spans_the_ranges():
    p = sample_gabor_params(5000, seed=2, uniform=True)
    assert p["theta"].min() < 2 and p["theta"].max() > 178
    assert np.histogram(np.log2(p["sf"]), bins=np.log2([0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0, 5.6, 8.0]))[0].min() > 500


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
