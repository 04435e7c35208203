"""Tuned (opponent-channel) and untuned (oriented Gaussian) divisive normalization."""

import math

import pytest
import torch

from brainlike.errors import BrainlikeError
from brainlike.layers.normalization import TunedNormalization, UntunedNormalization, channel_distances


def test_opponent_ring_distances():
    d = channel_distances(8)
    assert torch.equal(d, d.T)
    assert (d.diagonal() == 4).all()
    assert d[0, 4] == 0 and d[3, 7] == 0 and d[0, 1] == 3 and d[0, 7] == 3
    assert channel_distances(256).sum() == 4194304
    n = channel_distances(8, "neighbour")
    assert (n.diagonal() == 0).all() and n[0, 7] == 1 and n[0, 4] == 4
    with pytest.raises(BrainlikeError):
        channel_distances(4, "manhattan")


def test_tuned_normalization_on_a_hand_computed_example():
    layer = TunedNormalization(4)
    sigmas = [1.0, 2.0, 0.7, 0.2]
    with torch.no_grad():
        layer.sigmas.copy_(torch.tensor(sigmas))
    d = [[abs((j - i) % 4 - 2) for j in range(4)] for i in range(4)]
    s = [max(v, 0.5) for v in sigmas]
    g = [[math.exp(-(d[i][j] ** 2) / (2 * s[j] ** 2)) / (2.5066 * s[j]) for j in range(4)] for i in range(4)]
    column = [sum(g[i][j] for i in range(4)) for j in range(4)]
    g = [[g[i][j] / column[j] for j in range(4)] for i in range(4)]
    x = [0.5, 2.0, 1.0, 3.0]
    expected = [x[i] / (sum(g[i][j] * x[j] for j in range(4)) + 1) for i in range(4)]
    y = layer(torch.tensor(x).view(1, 4, 1, 1).expand(2, 4, 3, 3))
    torch.testing.assert_close(y[1, :, 2, 0], torch.tensor(expected))
    torch.testing.assert_close(layer.weights().sum(0), torch.ones(4))


def test_published_parameters():
    layer = TunedNormalization(256)
    assert not layer.channel_distances.requires_grad
    assert ((layer.sigmas >= 32) & (layer.sigmas <= 33)).all()


def test_untuned_normalization_on_a_hand_computed_example():
    layer = UntunedNormalization(1)
    values = dict(A=0.8, rho=1.5, sigma=1.2, theta=0.3, v=1.7, w=2.2)
    with torch.no_grad():
        for name, value in values.items():
            getattr(layer, name).fill_(value)
        layer.bias.fill_(-1.5)
    a, rho, sigma, theta, v, w = values.values()
    kernel = torch.zeros(3, 3)
    for r in range(3):
        for c in range(3):
            x, y = c + 1, r + 1
            xr, yr = x * math.cos(theta) + y * math.sin(theta), -x * math.sin(theta) + y * math.cos(theta)
            q = (xr - v) ** 2 / rho**2 + (yr - w) ** 2 / sigma**2
            kernel[r, c] = abs(a / (2 * math.pi * rho * sigma)) * math.exp(-q / 2)
    torch.testing.assert_close(layer.weights()[0, 0], kernel)
    x = torch.rand(1, 1, 5, 5)
    expected = x / (torch.nn.functional.conv2d(x, kernel.view(1, 1, 3, 3), padding=1) + 1.5)
    torch.testing.assert_close(layer(x), expected)
    assert set(dict(layer.state_dict())) == {"A", "rho", "sigma", "theta", "v", "w", "bias", "x_coords", "y_coords"}
