"""HSIC and CKA from kernel matrices, for all stimuli and for every bootstrap resample at once.

A bootstrap resample of the N stimuli is a vector w of counts (how often each stimulus was drawn; they
sum to n = N). Each term of the estimators is then a weighted sum over the full N x N kernels, so all
resamples come from a few (N x N) @ (N x S) products instead of S resampled N x N matrices; the first
column of the weights is all ones: the estimate on all stimuli.

Biased HSIC (Gretton et al. 2005): tr(K H L H) / (n - 1)^2, H the centring matrix.
Unbiased HSIC (Song et al. 2012), with K~, L~ the kernels with their diagonals set to 0:
    [tr(K~ L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n (n-3)).
CKA (Kornblith et al. 2019) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)); debiased CKA uses the unbiased
HSIC throughout. In a resample, the unbiased estimator is taken on the features centred on the resample's
mean with the pairs of a stimulus and its own copy left out (they would count as distinct stimuli with
identical features). The biased estimator keeps them, as it keeps each stimulus paired with itself, so
resampled biased CKA runs above the value on all stimuli for few stimuli (the percentile interval may
not contain it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brainlike.analysis.similarity.gram import ROW_BLOCK
from brainlike.errors import BrainlikeError


@dataclass(frozen=True)
class KernelStats:
    """One kernel matrix and the weighted sums of it that every pair it is compared in needs."""

    matrix: np.ndarray  # (N, N), in memory or a memory map
    diagonal: np.ndarray  # (N,) float64
    times_weights: np.ndarray  # K @ W, (N, S) float64
    total: np.ndarray  # w'Kw per resample, (S,)
    self_product: np.ndarray  # w'(K o K)w per resample, (S,)


def _bands(n: int):
    for lo in range(0, n, ROW_BLOCK):
        yield lo, min(lo + ROW_BLOCK, n)


def weighted_product(k: np.ndarray, other: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """w'(K o L)w for every column w of `weights`, a band of rows at a time."""
    total = np.zeros(weights.shape[1])
    for lo, hi in _bands(len(k)):
        band = np.multiply(k[lo:hi], other[lo:hi], dtype=np.float64)
        total += np.einsum("is,is->s", weights[lo:hi], band @ weights)
    return total


def kernel_stats(matrix: np.ndarray, weights: np.ndarray) -> KernelStats:
    """K @ W and w'(K o K)w in one pass over the bands of K."""
    n = len(matrix)
    times = np.empty((n, weights.shape[1]))
    self_product = np.zeros(weights.shape[1])
    for lo, hi in _bands(n):
        band = np.asarray(matrix[lo:hi], dtype=np.float64)
        times[lo:hi] = band @ weights
        self_product += np.einsum("is,is->s", weights[lo:hi], (band * band) @ weights)
    return KernelStats(
        matrix, np.diagonal(matrix).astype(np.float64), times, np.einsum("is,is->s", weights, times), self_product
    )


def hsic_values(
    k: KernelStats, other: KernelStats, product: np.ndarray, weights: np.ndarray, *, debiased: bool
) -> np.ndarray:
    """HSIC of K and L per resample, given product = w'(K o L)w."""
    n = float(weights[:, 0].sum())
    if not debiased:
        rows = np.einsum("is,is,is->s", weights, k.times_weights, other.times_weights)
        return (product - 2.0 / n * rows + k.total * other.total / n**2) / (n - 1) ** 2
    if n < 4:
        raise BrainlikeError(f"the unbiased HSIC needs at least 4 stimuli, got {int(n)}")
    # The kernels centred on each resample's (weighted) mean have zero weighted row sums, so every term of
    # the estimator reduces to their diagonals and w'(Kc o Lc)w, which expands into sums of K and L.
    g, h = k.times_weights / n, other.times_weights / n
    c, d = k.total / n**2, other.total / n**2
    k_diagonal = k.diagonal[:, None] - 2 * g + c
    l_diagonal = other.diagonal[:, None] - 2 * h + d
    centred = product - 2 * n * np.einsum("is,is,is->s", weights, g, h) + c * d * n**2
    squared = weights**2
    trace = centred - np.einsum("is,is,is->s", squared, k_diagonal, l_diagonal)
    k_sum = -np.einsum("is,is->s", squared, k_diagonal)
    l_sum = -np.einsum("is,is->s", squared, l_diagonal)
    cross = np.einsum("is,is,is->s", squared * weights, k_diagonal, l_diagonal)
    return (trace + k_sum * l_sum / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * cross) / (n * (n - 3))


def cka_values(k: KernelStats, other: KernelStats, weights: np.ndarray, *, debiased: bool) -> np.ndarray:
    """CKA of K and L per resample (NaN where a representation has no variance in a resample)."""
    product = weighted_product(k.matrix, other.matrix, weights)
    cross = hsic_values(k, other, product, weights, debiased=debiased)
    k_self = hsic_values(k, k, k.self_product, weights, debiased=debiased)
    l_self = hsic_values(other, other, other.self_product, weights, debiased=debiased)
    scale = k_self * l_self
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, cross / np.sqrt(np.where(scale > 0, scale, 1.0)), np.nan)


def bootstrap_weights(n: int, samples: int, seed: int) -> np.ndarray:
    """(n, 1 + samples) float64: a column of ones (all stimuli), then the counts of each seeded resample."""
    weights = np.ones((n, 1 + samples))
    rng = np.random.default_rng(seed)
    for s in range(samples):
        weights[:, 1 + s] = np.bincount(rng.integers(0, n, size=n), minlength=n)
    return weights
