"""CKA (linear, debiased, RBF), HSIC estimators, Procrustes distance and RSA between two representations."""

import numpy as np
import pytest

from brainlike import BrainlikeError
from brainlike.analysis.rsa import compare_rdms, rdm
from brainlike.analysis.similarity import (
    cka,
    hsic,
    linear_cka,
    procrustes_distance,
    rbf_cka,
    rsa_similarity,
)


def direct_linear_cka(x, y):
    """Kornblith et al. (2019), eq. for linear CKA on centred features: |Y'X|^2 / (|X'X| |Y'Y|)."""
    x, y = x - x.mean(0), y - y.mean(0)
    return np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


def direct_unbiased_hsic(k, l_):
    """Song et al. (2012) unbiased HSIC, written out on explicit matrices."""
    n = len(k)
    k, l_ = k - np.diag(np.diag(k)), l_ - np.diag(np.diag(l_))
    one = np.ones(n)
    return (
        np.trace(k @ l_) + (one @ k @ one) * (one @ l_ @ one) / ((n - 1) * (n - 2)) - 2 / (n - 2) * one @ k @ l_ @ one
    ) / (n * (n - 3))


def direct_rbf(x, fraction):
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    sigma = fraction * np.median(np.sqrt(d2[np.triu_indices(len(x), 1)]))
    return np.exp(-d2 / (2 * sigma**2))


def direct_cka_from_kernels(k, l_):
    h = np.eye(len(k)) - 1 / len(k)
    kc, lc = h @ k @ h, h @ l_ @ h
    return np.sum(kc * lc) / np.sqrt(np.sum(kc * kc) * np.sum(lc * lc))


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 12)) + 2.0
    y = np.tanh(x @ rng.normal(size=(12, 9))) + 0.3 * rng.normal(size=(40, 9))
    return x, y


def random_rotation(d, seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


@pytest.mark.parametrize("options", [{}, {"debiased": True}, {"kernel": "rbf"}, {"kernel": "rbf", "debiased": True}])
def test_cka_of_a_representation_with_itself_is_one(pair, options):
    x, _ = pair
    assert cka(x, x, **options) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("options", [{}, {"debiased": True}, {"kernel": "rbf"}])
def test_cka_is_invariant_to_rotation_isotropic_scaling_and_translation(pair, options):
    x, y = pair
    moved = 3.7 * x @ random_rotation(x.shape[1], 1) - 5.0
    assert cka(moved, y, **options) == pytest.approx(cka(x, y, **options), abs=1e-10)
    assert cka(x, moved, **options) == pytest.approx(1.0, abs=1e-10)


def test_inputs_are_left_unchanged(pair):
    x, y = pair
    kept = x.copy(), y.copy()
    linear_cka(x, y)
    procrustes_distance(x, y)
    np.testing.assert_array_equal(x, kept[0])
    np.testing.assert_array_equal(y, kept[1])


def test_linear_cka_is_not_invariant_to_general_linear_maps(pair):
    x, y = pair
    stretch = np.diag(np.geomspace(0.05, 20, x.shape[1])) @ random_rotation(x.shape[1], 2)
    assert abs(linear_cka(x @ stretch, y) - linear_cka(x, y)) > 0.05
    assert linear_cka(x, x @ stretch) < 0.9


def test_values_equal_direct_computations(pair):
    x, y = pair
    assert linear_cka(x, y) == pytest.approx(direct_linear_cka(x, y), rel=1e-12)
    k, l_ = x @ x.T, y @ y.T
    unbiased = direct_unbiased_hsic(k, l_) / np.sqrt(direct_unbiased_hsic(k, k) * direct_unbiased_hsic(l_, l_))
    assert linear_cka(x, y, debiased=True) == pytest.approx(unbiased, rel=1e-10)
    assert hsic(x, y, debiased=True) == pytest.approx(direct_unbiased_hsic(k, l_), rel=1e-10)
    xc, yc = x - x.mean(0), y - y.mean(0)
    assert hsic(x, y) == pytest.approx(np.linalg.norm(xc.T @ yc) ** 2 / (len(x) - 1) ** 2, rel=1e-12)
    for fraction in (0.5, 1.0):
        expected = direct_cka_from_kernels(direct_rbf(x, fraction), direct_rbf(y, fraction))
        assert rbf_cka(x, y, bandwidth=fraction) == pytest.approx(expected, rel=1e-10)


def test_debiased_hsic_is_unbiased_where_the_biased_one_is_not():
    """y = x M + noise with x ~ N(0, I): population HSIC (linear kernels) = |M|_F^2, population CKA =
    |M|_F^2 / (sqrt(p) |M'M + I|_F); independent x, z have population CKA 0."""
    rng = np.random.default_rng(0)
    n, p, draws = 20, 30, 400
    m = 0.5 * rng.normal(size=(p, p)) / np.sqrt(p)
    population_hsic = np.sum(m**2)
    population_cka = population_hsic / (np.sqrt(p) * np.linalg.norm(m.T @ m + np.eye(p)))
    unbiased, biased, debiased_cka, independent, independent_biased = [], [], [], [], []
    for _ in range(draws):
        x = rng.normal(size=(n, p))
        y, z = x @ m + rng.normal(size=(n, p)), rng.normal(size=(n, p))
        unbiased.append(hsic(x, y, debiased=True))
        biased.append(hsic(x, y))
        debiased_cka.append(linear_cka(x, y, debiased=True))
        independent.append(linear_cka(x, z, debiased=True))
        independent_biased.append(linear_cka(x, z))

    def error(values):
        return np.std(values, ddof=1) / np.sqrt(len(values))

    assert abs(np.mean(unbiased) - population_hsic) < 4 * error(unbiased)
    assert np.mean(biased) > 5 * population_hsic  # the biased estimator's bias at n = 20, p = 30
    assert abs(np.mean(debiased_cka) - population_cka) < 4 * error(debiased_cka) + 0.01
    assert abs(np.mean(independent)) < 4 * error(independent)
    assert np.mean(independent_biased) > 0.4


def test_procrustes_distance_is_zero_for_a_rotated_copy(pair):
    x, y = pair
    assert procrustes_distance(x, 2.0 * x @ random_rotation(x.shape[1], 3) + 1.0) == pytest.approx(0.0, abs=1e-6)
    xc, yc = x - x.mean(0), y - y.mean(0)
    xc, yc = xc / np.linalg.norm(xc), yc / np.linalg.norm(yc)
    rotation_free = np.sqrt(2 - 2 * np.linalg.svd(xc.T @ yc, compute_uv=False).sum())
    assert procrustes_distance(x, y) == pytest.approx(rotation_free, abs=1e-6)
    assert procrustes_distance(y, x) == pytest.approx(procrustes_distance(x, y), abs=1e-6)
    assert procrustes_distance(x, y) > 0.3


def test_rsa_between_feature_sets(pair):
    x, y = pair
    assert rsa_similarity(x, x) == pytest.approx(1.0)
    assert rsa_similarity(x, 2 * x + 1, metric="euclidean") == pytest.approx(1.0)
    assert rsa_similarity(x, y) == pytest.approx(compare_rdms(rdm(x), rdm(y)))
    assert rsa_similarity(x, y) < 0.99


def test_bad_inputs_give_clear_errors(pair):
    x, y = pair
    with pytest.raises(BrainlikeError, match="40 and 39 stimuli"):
        linear_cka(x, y[:39])
    with pytest.raises(BrainlikeError, match="kernel must be one of"):
        cka(x, y, kernel="poly")
    with pytest.raises(BrainlikeError, match="at least 4 stimuli"):
        linear_cka(x[:3], y[:3], debiased=True)
    with pytest.raises(BrainlikeError, match="NaN or infinite"):
        linear_cka(np.where(x > 3, np.nan, x), y)
    with pytest.raises(BrainlikeError, match="positive fraction"):
        rbf_cka(x, y, bandwidth=0)
