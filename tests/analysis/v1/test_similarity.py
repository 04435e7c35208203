"""KS similarity and the published ceilings, from the shipped histograms alone."""

import numpy as np
import pytest

from brainlike.analysis.v1.similarity import (
    MISSING,
    bin_indices,
    ceiling,
    data_bins,
    histogram,
    ks_similarity,
    model_similarity,
)
from brainlike.analysis.v1.targets import shipped_targets, target

WITH_CEILING = [t for t in shipped_targets() if t.has_counts and t.expected_ceiling is not None]


def test_every_benchmark_with_public_counts_ships():
    assert {(t.dataset, t.property) for t in WITH_CEILING} == {
        ("DeValois1982a", "preferred_orientation"),
        ("DeValois1982b", "peak_spatial_frequency"),
        ("Schiller1976c", "spatial_frequency_selective"),
        ("Schiller1976c", "spatial_frequency_bandwidth"),
        ("Cavanaugh2002a", "surround_suppression_index"),
        ("Cavanaugh2002a", "grating_summation_field"),
        ("Cavanaugh2002a", "surround_diameter"),
    }


@pytest.mark.parametrize("t", WITH_CEILING, ids=lambda t: f"{t.dataset}-{t.property}")
def test_ceiling_reproduces_the_published_value(t):
    assert abs(ceiling(t, seed=0).score - t.expected_ceiling) < 0.01


def test_data_rows_include_nan_filler():
    t = target("Cavanaugh2002a", "grating_summation_field")
    rows = data_bins(t)
    assert rows.size == 190 and (rows == MISSING).sum() == 42


def test_ks_similarity_extremes():
    q = np.array([1, 2, 3, 4])
    assert ks_similarity(q, q) == pytest.approx(1.0)
    # All mass at the end farthest from q's cumulative distribution is the normalising worst case.
    worst = max(ks_similarity(np.array([1, 0, 0, 0]), q), ks_similarity(np.array([0, 0, 0, 1]), q))
    best_of_extremes = min(ks_similarity(np.array([1, 0, 0, 0]), q), ks_similarity(np.array([0, 0, 0, 1]), q))
    assert best_of_extremes == pytest.approx(0.0) and worst > 0
    assert np.isnan(ks_similarity(np.zeros(4), q))


def test_binning_clips_and_keeps_nan_apart():
    bins = np.array([0.0, 1.0, 2.0])
    assert bin_indices(np.array([-5, 0, 0.5, 1, 2, 9, np.nan]), bins).tolist() == [0, 0, 0, 1, 1, 1, MISSING]
    assert histogram(np.array([0.5, 1.5, 2.0, np.nan]), bins).tolist() == [1, 2]


def test_model_distributed_like_the_data_scores_near_the_ceiling_and_a_point_mass_low():
    t = target("DeValois1982b", "peak_spatial_frequency")
    rng = np.random.default_rng(1)
    # Draw values uniformly inside the bins in log2 space, in the data's proportions.
    edges = np.log2(t.bins)
    which = rng.choice(len(t.counts), size=2000, p=t.counts / t.counts.sum())
    like = 2 ** rng.uniform(edges[which], edges[which + 1])
    top = ceiling(t, seed=0).score
    assert model_similarity(like, t, seed=0).score == pytest.approx(top, abs=0.02)
    assert model_similarity(np.full(300, 0.4), t, seed=0).score < 0.2


def test_seeded_bootstrap_is_deterministic():
    t = target("Cavanaugh2002a", "surround_suppression_index")
    values = np.random.default_rng(0).uniform(0, 1, 50)
    assert model_similarity(values, t, seed=3) == model_similarity(values, t, seed=3)
    assert model_similarity(values, t, seed=3).score != model_similarity(values, t, seed=4).score


def test_all_nan_model_scores_zero():
    t = target("Schiller1976c", "spatial_frequency_bandwidth")
    assert model_similarity(np.full(20, np.nan), t).score == 0.0


def test_histogram_median():
    t = target("DeValois1982a", "preferred_orientation")
    # 110 + 83 = 193 of 385 neurons lie below 67.5 deg, so the median is just below it.
    assert 60 < t.median() < 67.5
