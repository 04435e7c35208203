"""RDMs and their comparison."""

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from brainlike import BrainlikeError
from brainlike.analysis.rsa import bootstrap_compare, compare_rdms, kendall_tau_a, rdm

rng = np.random.default_rng(0)
X = rng.normal(size=(12, 5, 4))


@pytest.mark.parametrize(
    "metric, scipy_metric", [("correlation", "correlation"), ("euclidean", "euclidean"), ("cosine", "cosine")]
)
def test_rdm_matches_scipy_and_blocking_changes_nothing(metric, scipy_metric):
    expected = squareform(pdist(X.reshape(12, -1), scipy_metric))
    np.testing.assert_allclose(rdm(X, metric), expected, atol=1e-12)
    np.testing.assert_allclose(rdm(X, metric, block=3), expected, atol=1e-12)


@pytest.mark.parametrize("method", ["spearman", "kendall", "cosine"])
def test_identical_rdms_compare_to_one(method):
    d = rdm(X)
    assert compare_rdms(d, d.copy(), method) == pytest.approx(1.0)
    result = bootstrap_compare(d, d, method, samples=5)
    assert result.value == pytest.approx(1.0)
    if method != "kendall":  # tau-a counts the ties that repeated stimuli create as neither, so stays below 1
        assert result.samples == pytest.approx(np.ones(5))


def test_reversed_order_gives_minus_one():
    d = rdm(X)
    assert compare_rdms(d, -d, "spearman") == pytest.approx(-1.0)
    assert compare_rdms(d, -d, "kendall") == pytest.approx(-1.0)


def test_kendall_tau_a_counts_ties_as_neither():
    x = np.array([1, 2, 2, 3, 4, 4, 5.0])
    y = np.array([2, 1, 3, 3, 5, 4, 4.0])
    pairs = list(itertools.combinations(range(len(x)), 2))
    brute = sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j]) for i, j in pairs) / len(pairs)
    assert kendall_tau_a(x, y) == pytest.approx(brute)
    assert kendall_tau_a(np.ones(5), np.arange(5.0)) == 0.0


def test_bootstrap_spread_brackets_the_value():
    a, b = rdm(X), rdm(X + rng.normal(scale=1.0, size=X.shape))
    result = bootstrap_compare(a, b, samples=50, seed=1)
    assert -1 <= result.ci_low <= result.ci_high <= 1
    assert result.std > 0 and abs(result.mean - result.value) < 3 * result.std
    assert bootstrap_compare(a, b, samples=50, seed=1).samples == pytest.approx(result.samples)


def test_bad_rdms_give_clear_errors():
    d = rdm(X)
    with pytest.raises(BrainlikeError, match="different sizes"):
        compare_rdms(d, d[:5, :5])
    with pytest.raises(BrainlikeError, match="square"):
        compare_rdms(d[:, :5], d[:, :5])
    with pytest.raises(BrainlikeError, match="comparison must be"):
        compare_rdms(d, d, "pearsonish")
    with pytest.raises(BrainlikeError, match="metric must be"):
        rdm(X, "manhattan")
    with pytest.raises(BrainlikeError, match="constant features"):
        rdm(np.vstack([np.ones((1, 6)), rng.normal(size=(4, 6))]))
    with pytest.raises(BrainlikeError, match="at least 3"):
        rdm(X[:2])
