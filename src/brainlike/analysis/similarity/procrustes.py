"""Orthogonal Procrustes distance between two representations, from their Gram matrices.

With X and Y centred and scaled to unit Frobenius norm, min over orthogonal Q of |X - Y Q|_F is
sqrt(2 - 2 |X'Y|_*), |.|_* the nuclear norm (Schönemann 1966; Ding et al. 2021 report its square, Williams
et al. 2021 its angular form arccos |X'Y|_*). The singular values of X'Y are those of K^1/2 L^1/2 with
K = XX', L = YY', so |X'Y|_* = sum sqrt(eig(K^1/2 L K^1/2)) needs only the N x N Gram matrices, whatever
the number of features: O(N^3) time per pair (and per bootstrap resample).

A resample with counts w is the representation with each row of the mean-centred (weighted mean) features
scaled by sqrt(w_i): the same nuclear norm and Frobenius norms as the resampled stimuli.
"""

from __future__ import annotations

import numpy as np


def resampled_gram(gram: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """D^1/2 G_w D^1/2 over the drawn stimuli (w > 0): G re-centred on the w-weighted mean, D = diag(w)."""
    gram = np.asarray(gram, dtype=np.float64)
    n = weights.sum()
    g = gram @ weights / n
    centred = gram - g[:, None] - g[None, :] + weights @ g / n
    drawn = weights > 0
    root = np.sqrt(weights[drawn])
    return centred[np.ix_(drawn, drawn)] * root[:, None] * root[None, :]


def psd_root(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a positive semi-definite matrix (negative rounding errors set to 0)."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def procrustes_from_grams(root_k: np.ndarray, trace_k: float, other: np.ndarray) -> float:
    """The Procrustes distance from K^1/2 with tr K, and L (Gram matrices of the same stimuli)."""
    trace_l = float(np.trace(other))
    if trace_k <= 0 or trace_l <= 0:
        return float("nan")
    values = np.linalg.eigvalsh(root_k @ other @ root_k)
    nuclear = float(np.sqrt(np.clip(values, 0.0, None)).sum()) / np.sqrt(trace_k * trace_l)
    return float(np.sqrt(max(2.0 - 2.0 * min(nuclear, 1.0), 0.0)))
