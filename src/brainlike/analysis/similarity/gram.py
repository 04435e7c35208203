"""Gram matrices of stimuli, accumulated over blocks of features, and the RBF kernel built from them.

The linear Gram matrix of the column-centred features, X_c X_c^T (N x N), is summed block by block with
BLAS syrk writing into one matrix in place, so memory is the N x N result and one block of features,
however many features a layer has. Up to `FLOAT64_STIMULI` stimuli it is held in float64; beyond, in
float32 (half the memory; each block's product is still summed over its features by BLAS in float32).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy.linalg.blas import get_blas_funcs

from brainlike.errors import BrainlikeError

FLOAT64_STIMULI = 4096
ROW_BLOCK = 512


def gram_dtype(n: int) -> np.dtype:
    return np.dtype(np.float64 if n <= FLOAT64_STIMULI else np.float32)


def _symmetrize_upper(matrix: np.ndarray) -> None:
    """Copy the upper triangle onto the lower one, a band of rows at a time (no N x N temporary)."""
    n = matrix.shape[0]
    for lo in range(0, n, ROW_BLOCK):
        hi = min(lo + ROW_BLOCK, n)
        matrix[lo:hi, :lo] = matrix[:lo, lo:hi].T
        band = matrix[lo:hi, lo:hi]
        band[...] = np.triu(band) + np.triu(band, 1).T


def centered_gram(blocks: Iterable[np.ndarray], n: int, *, dtype=None) -> np.ndarray:
    """X_c X_c^T of the (n, features) matrix X given as blocks of columns (new arrays, changed in place),
    each column centred on its mean."""
    dtype = np.dtype(dtype or gram_dtype(n))
    gram = np.zeros((n, n), dtype=dtype, order="F")
    syrk = get_blas_funcs("syrk", dtype=dtype)
    features = 0
    for block in blocks:
        part = np.ascontiguousarray(block, dtype=dtype)  # centred in place: blocks are the caller's to change
        if part.ndim != 2 or part.shape[0] != n:
            raise BrainlikeError(f"a block of features must have shape ({n}, k), got {part.shape}")
        part -= part.mean(axis=0, dtype=np.float64).astype(dtype)
        # part.T is Fortran-ordered (k, n): syrk with trans=1 adds part @ part.T into gram without a copy
        gram = syrk(1.0, part.T, beta=1.0, c=gram, trans=1, lower=0, overwrite_c=1)
        features += part.shape[1]
    if not features:
        raise BrainlikeError("a layer without features has no Gram matrix")
    _symmetrize_upper(gram)
    return gram


def median_distance(gram: np.ndarray) -> float:
    """The median Euclidean distance between distinct stimuli, from their (centred) Gram matrix."""
    squared = np.diag(gram).astype(np.float64)
    n = len(squared)
    parts = []
    for lo in range(0, n - 1, ROW_BLOCK):
        hi = min(lo + ROW_BLOCK, n - 1)
        block = squared[lo:hi, None] + squared[None, :] - 2 * gram[lo:hi].astype(np.float64)
        above = np.arange(n)[None, :] > np.arange(lo, hi)[:, None]
        parts.append(np.sqrt(np.maximum(block[above], 0.0)).astype(gram.dtype))
    return float(np.median(np.concatenate(parts)))


def rbf_kernel(gram: np.ndarray, bandwidth: float = 1.0) -> tuple[np.ndarray, float]:
    """(K, sigma): K_ij = exp(-|x_i - x_j|^2 / (2 sigma^2)) with sigma = `bandwidth` x the median distance
    between distinct stimuli (the rule of Kornblith et al. 2019); `gram` is overwritten with K."""
    if not bandwidth > 0:
        raise BrainlikeError(f"the RBF bandwidth is a positive fraction of the median distance, not {bandwidth}")
    sigma = bandwidth * median_distance(gram)
    if sigma <= 0:
        raise BrainlikeError("all stimuli have the same features, so the RBF bandwidth rule gives 0")
    squared = np.diag(gram).astype(np.float64).copy()
    scale = -1.0 / (2.0 * sigma**2)
    n = len(squared)
    for lo in range(0, n, ROW_BLOCK):
        hi = min(lo + ROW_BLOCK, n)
        distance2 = np.maximum(squared[lo:hi, None] + squared[None, :] - 2 * gram[lo:hi], 0.0)
        gram[lo:hi] = np.exp(scale * distance2)
    return gram, sigma
