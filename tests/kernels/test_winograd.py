"""Winograd 3x3 convolution: equal to direct convolution, used only where it is valid and pays."""

import pytest
import torch
import torch.nn.functional as F

from brainlike.kernels import winograd
from brainlike.kernels.winograd import SharedKernel3x3, conv3x3, tile_count, transform_kernel


def scaled_error(ours: torch.Tensor, direct: torch.Tensor) -> float:
    return float((ours - direct).abs().max() / direct.abs().max())


@pytest.mark.parametrize("shape", [(2, 8, 6, 6), (1, 5, 7, 7), (3, 4, 9, 4), (2, 16, 1, 5)])
def test_equals_direct_convolution_for_any_size(shape):
    torch.manual_seed(0)
    x = torch.randn(shape)
    weight = torch.randn(6, shape[1], 3, 3)
    ours = conv3x3(x, transform_kernel(weight))
    direct = F.conv2d(x, weight, padding=1)
    assert ours.shape == direct.shape and ours.is_contiguous()
    assert scaled_error(ours, direct) < 1e-6


def test_equals_direct_convolution_on_wide_layers():
    torch.manual_seed(0)
    x = torch.relu(torch.randn(2, 512, 14, 14))
    weight = torch.randn(512, 512, 3, 3) / 48
    assert scaled_error(conv3x3(x, transform_kernel(weight)), F.conv2d(x, weight, padding=1)) < 1e-5


def test_tiles_count_the_2x2_output_blocks():
    assert tile_count(torch.empty(3, 1, 14, 14)) == 3 * 49
    assert tile_count(torch.empty(1, 1, 7, 5)) == 4 * 3


def wide(batch=2, channels=256, size=14):
    torch.manual_seed(0)
    return torch.randn(batch, channels, size, size), torch.randn(channels, channels, 3, 3) / 48


def test_shared_kernel_transforms_once_per_forward_and_only_where_it_pays(monkeypatch):
    x, weight = wide()
    calls = []
    monkeypatch.setattr(winograd, "transform_kernel", lambda w: calls.append(1) or transform_kernel(w))
    conv = SharedKernel3x3(weight, calls=3)  # 3 x 98 tiles
    with torch.no_grad():
        first, second = conv(x), conv(x)
        strided = conv(x, stride=2)
    assert len(calls) == 1 and torch.equal(first, second)
    assert scaled_error(first, F.conv2d(x, weight, padding=1)) < 1e-5
    assert torch.equal(strided, F.conv2d(x, weight, stride=2, padding=1))
    small = wide(batch=1)[0][:, :, :8, :8]  # 16 tiles, once: not worth a kernel transform
    with torch.no_grad():
        assert torch.equal(SharedKernel3x3(weight, calls=1)(small), F.conv2d(small, weight, padding=1))
    assert len(calls) == 1


def test_direct_convolution_for_training_narrow_layers_and_autocast():
    x, weight = wide()
    weight.requires_grad_(True)
    y = SharedKernel3x3(weight, calls=4)(x)  # autograd needs the direct path
    assert torch.equal(y, F.conv2d(x, weight, padding=1)) and y.requires_grad
    narrow_x, narrow_w = wide(channels=64)
    with torch.no_grad():
        assert torch.equal(SharedKernel3x3(narrow_w, calls=4)(narrow_x), F.conv2d(narrow_x, narrow_w, padding=1))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = SharedKernel3x3(weight.detach(), calls=4)(x)
        assert out.dtype == torch.bfloat16


@pytest.mark.slow
def test_cornet_s_inference_matches_direct_convolution(monkeypatch):
    from brainlike import create_model

    torch.manual_seed(0)
    model = create_model("cornet_s").eval()
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        monkeypatch.setattr(winograd, "MIN_TILES", 1)  # every stride-1 conv2 of V2, V4 and IT
        fast = model(x)
        monkeypatch.setattr(winograd, "MIN_TILES", 10**9)
        direct = model(x)
    assert float((fast - direct).norm() / direct.norm()) < 1e-5 and not torch.equal(fast, direct)
