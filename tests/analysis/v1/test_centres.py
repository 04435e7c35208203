"""The fast RF-centre path selects exactly the units, with exactly the centres, of the float64 protocol."""

import numpy as np
import pytest
import torch

from brainlike.analysis.v1.protocol import RF_DELTA_DEG, RF_THRESHOLD
from brainlike.analysis.v1.selection import above_threshold, centres_near, receptive_field_centres
from brainlike.data.stimuli import POSITION, RF_POSITIONS

SIDE = len(RF_POSITIONS)


def _gaussian_maps(units: int, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    """(441, units) RF maps: Gaussian blobs centred within ~0.4 deg of the stimulus, some units silent."""
    rng = np.random.default_rng(seed)
    y, x = np.meshgrid(RF_POSITIONS, RF_POSITIONS, indexing="ij")
    cx = POSITION[0] + rng.uniform(-0.4, 0.4, units)
    cy = POSITION[1] + rng.uniform(-0.4, 0.4, units)
    width = rng.uniform(0.15, 0.8, units)
    gain = rng.lognormal(0.0, 1.0, units)
    maps = gain * np.exp(-((x.reshape(-1, 1) - cx) ** 2 + (y.reshape(-1, 1) - cy) ** 2) / (2 * width**2))
    maps[:, rng.random(units) < 0.05] = 0.0  # silent units
    return torch.from_numpy(maps).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
def test_fast_centres_select_the_float64_units_with_the_float64_centres(dtype):
    maps = _gaussian_maps(20_000, dtype)
    x, y = receptive_field_centres(maps)
    chosen = np.flatnonzero(np.hypot(x - POSITION[0], y - POSITION[1]) <= RF_DELTA_DEG)
    fast_x, fast_y, fast_chosen = centres_near(maps, POSITION, RF_DELTA_DEG)
    assert 500 < chosen.size < 19_000  # the test exercises both sides of the radius
    assert np.array_equal(fast_chosen, chosen)
    assert np.array_equal(fast_x[chosen], x[chosen]) and np.array_equal(fast_y[chosen], y[chosen])
    assert np.array_equal(np.isnan(fast_x), np.isnan(x))  # the same units have no RF
    np.testing.assert_allclose(fast_x, x, atol=1e-3, equal_nan=True)  # elsewhere float32-accurate


def test_centre_of_a_single_position_is_that_position():
    maps = torch.zeros(SIDE * SIDE, 2)
    maps[12 * SIDE + 12, 0] = 3.0  # row 12, column 12: (0.5, 0.5) deg
    x, y, chosen = centres_near(maps, POSITION, RF_DELTA_DEG)
    assert (x[0], y[0]) == (0.5, 0.5) and np.isnan(x[1]) and list(chosen) == [0]


def test_threshold_test_in_float32_decides_as_float64():
    peak = torch.tensor([1.0, 3.0, 7.123, 1e-30, 2.0**-3, 0.1], dtype=torch.float32).repeat_interleave(5)
    exact = peak.double() * RF_THRESHOLD
    rounded = exact.float()
    # values at, just below and just above the rounded float32 threshold, where rounding could decide
    values = torch.stack(
        [
            rounded,
            torch.nextafter(rounded, torch.tensor(0.0)),
            torch.nextafter(rounded, torch.tensor(1.0)),
            torch.zeros_like(rounded),
            peak,
        ]
    ).flatten()
    peaks = peak.repeat(5)
    assert torch.equal(above_threshold(values, peaks), values.double() > peaks.double() * RF_THRESHOLD)
