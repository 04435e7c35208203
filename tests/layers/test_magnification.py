"""Cortical magnification: the published polar pooling and the log-polar sampler."""

import hashlib

import pytest
import torch

from brainlike.errors import BrainlikeError
from brainlike.layers.magnification import LogPolarSampler, PolarPooling
from tests.reference import reference


@pytest.fixture(scope="module")
def pooling():
    return PolarPooling()


def test_masks_are_the_published_buffers(pooling):
    checks = reference("pogoncheff_v1_a")["fixed_key_checksums"]
    for key in ("pooling_masks", "pooling_mask_counts"):
        buffer = getattr(pooling, key)
        expected = checks[f"lpp.{key}"]
        assert buffer.dtype == torch.float16 and list(buffer.shape) == expected["shape"]
        assert (
            hashlib.sha256(buffer.contiguous().numpy().tobytes()).hexdigest() == expected["sha256_of_contiguous_bytes"]
        )


def test_mask_structure(pooling):
    masks = pooling.pooling_masks.float()
    assert masks.shape == (540, 32, 32)
    assert (masks.flatten(1).sum(1) == 0).sum() == 40
    assert (masks[:30].flatten(1).argmax(1) == 16 * 32 + 16).all()
    assert (masks.sum(0) > 0).all()


def test_centred_dot_lands_in_the_fovea(pooling):
    x = torch.zeros(1, 1, 32, 32)
    x[..., 15:18, 15:18] = 1.0
    polar = pooling.polar_map(x)[0, 0]
    assert polar[0].min() == 1 and polar[4:].max() == 0
    y = pooling(x)[0, 0]
    assert y.shape == (16, 16)
    assert y[0].mean() > 0.5 and y[8:].abs().max() < 1e-6


def test_uniform_image_stays_uniform_inside_the_complete_rings(pooling):
    y = pooling(torch.full((2, 3, 32, 32), 0.7))
    assert y.shape == (2, 3, 16, 16)
    # fp16 masks and counts make each mean exact to about 1e-3; the two outermost rings have
    # empty masks (output 0) that only reach the last output rows.
    torch.testing.assert_close(y[..., :12, :], torch.full_like(y[..., :12, :], 0.7), rtol=2e-3, atol=0)
    assert y[..., -1, :].mean() < 0.7


def test_radius_padding_and_size_check():
    x = torch.rand(1, 2, 32, 32)
    assert not torch.allclose(PolarPooling(radius_pad=True)(x), PolarPooling()(x))
    with pytest.raises(BrainlikeError, match="32x32"):
        PolarPooling()(torch.rand(1, 2, 64, 64))


def test_log_polar_sampler():
    sampler = LogPolarSampler(rings=12, wedges=8, visual_degrees=8, fovea_degrees=0.5)
    assert sampler.eccentricity[0] == 0 and sampler.eccentricity[-1] == pytest.approx(4.0)
    steps = sampler.eccentricity.diff()
    assert (steps[1:] > steps[:-1]).all()
    # Ring spacing grows in proportion to eccentricity + fovea_degrees.
    torch.testing.assert_close(steps[1:] / steps[:-1], torch.full_like(steps[1:], steps[1] / steps[0]))
    uniform = torch.full((1, 2, 40, 40), 0.3)
    torch.testing.assert_close(sampler(uniform), torch.full((1, 2, 12, 8), 0.3))
    dot = torch.zeros(1, 1, 40, 40)
    dot[..., 19:21, 19:21] = 1.0
    y = sampler(dot)[0, 0]
    assert y[0].min() > 0.9 and y[4:].max() == 0
    with pytest.raises(BrainlikeError):
        LogPolarSampler(fovea_degrees=5, visual_degrees=8)
