"""V1 parameter sampling: the original's draws and the source histograms."""

import math

import numpy as np
import pytest
from scipy.stats import chisquare, spearmanr

from brainlike.errors import BrainlikeError
from brainlike.layers.gabor_sampling import sample_gabor_params, v1_histograms

DRAWS = 10_000


@pytest.fixture(scope="module")
def draws():
    return sample_gabor_params(DRAWS, seed=3)


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
