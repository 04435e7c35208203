"""LocallyConnected2d: untied weights, the original's layout, no (B, out, in, H, W, k*k) tensor."""

import pytest
import torch
import torch.nn.functional as F

from brainlike.errors import BrainlikeError
from brainlike.layers.local import LocallyConnected2d


def naive(x, weight, k, stride, padding):
    """The direct formulation: broadcast patches against the weight and sum."""
    x = F.pad(x, (padding,) * 4)
    patches = x.unfold(2, k, stride).unfold(3, k, stride).flatten(-2)  # (B, in, H, W, k*k)
    return (patches.unsqueeze(1) * weight).sum(dim=(2, -1))


@pytest.mark.parametrize("stride,padding,size", [(1, 1, 6), (2, 0, 7)])
def test_matches_the_direct_formulation(stride, padding, size):
    out = (size + 2 * padding - 3) // stride + 1
    layer = LocallyConnected2d(4, 5, output_size=out, kernel_size=3, stride=stride, padding=padding, bias=True)
    x = torch.randn(2, 4, size, size)
    expected = naive(x, layer.weight, 3, stride, padding) + layer.bias
    torch.testing.assert_close(layer(x), expected, rtol=1e-4, atol=1e-4)


def test_tied_weights_equal_conv2d():
    conv = torch.nn.Conv2d(6, 4, 3, padding=1, bias=False)
    layer = LocallyConnected2d(6, 4, output_size=8, kernel_size=3, padding=1)
    with torch.no_grad():
        tied = conv.weight.reshape(4, 6, 1, 1, 9).expand(4, 6, 8, 8, 9)
        layer.weight.copy_(tied.unsqueeze(0))
    x = torch.randn(3, 6, 8, 8)
    torch.testing.assert_close(layer(x), conv(x), rtol=1e-4, atol=1e-5)


def test_published_layout_and_init():
    layer = LocallyConnected2d(64, 64, output_size=16, kernel_size=3, padding=1)
    assert layer.weight.shape == (1, 64, 64, 16, 16, 9)
    assert layer.weight.std().item() == pytest.approx(1.0, rel=0.01)
    assert "bias" not in dict(layer.named_parameters())
    kaiming = LocallyConnected2d(8, 8, output_size=4, padding=1, init="kaiming")
    assert kaiming.weight.std().item() == pytest.approx((2 / 72) ** 0.5, rel=0.1)


def test_gradients_reach_every_position():
    layer = LocallyConnected2d(3, 2, output_size=5, padding=1)
    layer(torch.randn(2, 3, 5, 5)).square().sum().backward()
    assert (layer.weight.grad.abs().sum(dim=(0, 1, 2, 5)) > 0).all()


def test_wrong_input_size_is_refused():
    layer = LocallyConnected2d(4, 4, output_size=16, padding=1)
    with pytest.raises(BrainlikeError, match="16x16"):
        layer(torch.randn(1, 4, 32, 32))
    with pytest.raises(BrainlikeError, match="channels"):
        layer(torch.randn(1, 3, 16, 16))
