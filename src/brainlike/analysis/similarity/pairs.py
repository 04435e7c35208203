"""One representation against another: HSIC, CKA, Procrustes distance and RSA of two (stimulus, ...) arrays.

The rows of `x` and `y` are the same stimuli in the same order; the features (everything after the first
axis) may differ in number. Gram matrices are built over blocks of features (see `gram`).
"""

from __future__ import annotations

import numpy as np

from brainlike.analysis.similarity.estimators import cka_values, hsic_values, kernel_stats, weighted_product
from brainlike.analysis.similarity.gram import centered_gram, rbf_kernel
from brainlike.analysis.similarity.methods import KERNELS
from brainlike.analysis.similarity.procrustes import procrustes_from_grams, psd_root
from brainlike.analysis.similarity.sources import FeatureSet, LayerKey
from brainlike.errors import BrainlikeError


def _gram(x, *, kernel: str = "linear", bandwidth: float = 1.0) -> np.ndarray:
    if kernel not in KERNELS:
        raise BrainlikeError(f"kernel must be one of {', '.join(KERNELS)}, not {kernel!r}")
    x = x if hasattr(x, "shape") else np.asarray(x)
    if len(x.shape) < 2:
        raise BrainlikeError(f"features must have shape (stimuli, ...), got {tuple(x.shape)}")
    n = x.shape[0]
    gram = centered_gram(FeatureSet({"x": x}).blocks(LayerKey("x"), np.arange(n)), n, dtype=np.float64)
    return rbf_kernel(gram, bandwidth)[0] if kernel == "rbf" else gram


def _pair(x, y, minimum: int, **kernel) -> tuple[np.ndarray, np.ndarray]:
    nx, ny = len(x), len(y)
    if nx != ny:
        raise BrainlikeError(f"the two representations have {nx} and {ny} stimuli; they must be the same stimuli")
    if nx < minimum:
        raise BrainlikeError(f"this comparison needs at least {minimum} stimuli, got {nx}")
    return _gram(x, **kernel), _gram(y, **kernel)


def hsic(x, y, *, kernel: str = "linear", bandwidth: float = 1.0, debiased: bool = False) -> float:
    """HSIC of two representations: the biased estimator tr(KHLH)/(n-1)^2, or the unbiased one (Song et al.
    2012). With the linear kernel both estimate |Cov(x, y)|_F^2."""
    k, other = _pair(x, y, 4 if debiased else 2, kernel=kernel, bandwidth=bandwidth)
    weights = np.ones((len(k), 1))
    ks, ls = kernel_stats(k, weights), kernel_stats(other, weights)
    return float(hsic_values(ks, ls, weighted_product(k, other, weights), weights, debiased=debiased)[0])


def cka(x, y, *, kernel: str = "linear", bandwidth: float = 1.0, debiased: bool = False) -> float:
    """Centred kernel alignment (Kornblith et al. 2019) of two representations of the same stimuli."""
    k, other = _pair(x, y, 4 if debiased else 2, kernel=kernel, bandwidth=bandwidth)
    weights = np.ones((len(k), 1))
    return float(cka_values(kernel_stats(k, weights), kernel_stats(other, weights), weights, debiased=debiased)[0])


def linear_cka(x, y, *, debiased: bool = False) -> float:
    """Linear CKA: |Y_c'X_c|_F^2 / (|X_c'X_c|_F |Y_c'Y_c|_F); debiased: from the unbiased HSIC estimator."""
    return cka(x, y, debiased=debiased)


def rbf_cka(x, y, *, bandwidth: float = 1.0, debiased: bool = False) -> float:
    """CKA with Gaussian kernels, sigma = `bandwidth` x the median distance between distinct stimuli."""
    return cka(x, y, kernel="rbf", bandwidth=bandwidth, debiased=debiased)


def procrustes_distance(x, y) -> float:
    """min over orthogonal Q of |X - YQ|_F for X, Y centred and scaled to unit norm: 0 (the same up to
    rotation, reflection, translation and scale) to sqrt(2)."""
    k, other = _pair(x, y, 2)
    return procrustes_from_grams(psd_root(k), float(np.trace(k)), other)


def rsa_similarity(x, y, *, metric: str = "correlation", comparison: str = "spearman") -> float:
    """How alike the RDMs of two representations are (brainlike.analysis.rsa: rdm, then compare_rdms)."""
    from brainlike.analysis.rsa import compare_rdms, rdm

    if len(x) != len(y):
        raise BrainlikeError(f"the two representations have {len(x)} and {len(y)} stimuli; they must be the same")
    return compare_rdms(rdm(np.asarray(x), metric), rdm(np.asarray(y), metric), comparison)
