"""Representational similarity analysis: dissimilarity matrices and how alike two of them are.

RDMs are built from a Gram matrix accumulated over blocks of features, so memory is O(N^2 + N x block)
whatever the feature count; comparisons use the upper triangle without the diagonal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from brainlike.errors import BrainlikeError

METRICS = ("correlation", "euclidean", "cosine")
COMPARISONS = ("spearman", "kendall", "cosine")
FEATURE_BLOCK = 8192


def _as_matrix(features) -> np.ndarray:
    x = np.asarray(features)
    if x.ndim < 2:
        raise BrainlikeError(f"features must have shape (stimuli, ...), got {x.shape}")
    if x.shape[0] < 3:
        raise BrainlikeError(f"an RDM needs at least 3 stimuli, got {x.shape[0]}")
    return x.reshape(x.shape[0], -1)


def rdm(features, metric: str = "correlation", *, block: int = FEATURE_BLOCK) -> np.ndarray:
    """(N, N) dissimilarities between the rows of `features` (N, ...): 1 - Pearson r, Euclidean, or 1 - cosine."""
    if metric not in METRICS:
        raise BrainlikeError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    x = _as_matrix(features)
    n, d = x.shape
    means = np.zeros(n)
    if metric == "correlation":
        for lo in range(0, d, block):
            means += x[:, lo : lo + block].sum(axis=1, dtype=np.float64)
        means /= d
    gram = np.zeros((n, n))
    for lo in range(0, d, block):
        part = x[:, lo : lo + block].astype(np.float64) - means[:, None]
        gram += part @ part.T
    squared = np.diag(gram).copy()
    if metric == "euclidean":
        distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * gram, 0.0))
    else:
        flat = np.flatnonzero(squared <= 1e-24 * max(squared.max(), 1e-300))
        if flat.size:
            what = "constant" if metric == "correlation" else "all-zero"
            raise BrainlikeError(f"stimulus {flat[0]} has {what} features, so its {metric} distance is undefined")
        norms = np.sqrt(squared)
        distances = 1.0 - gram / np.outer(norms, norms)
    np.fill_diagonal(distances, 0.0)
    return distances


def upper(matrix: np.ndarray) -> np.ndarray:
    """The entries above the diagonal of a square matrix, row by row."""
    return matrix[np.triu_indices(matrix.shape[0], k=1)]


def _check_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    for name, m in (("first", a), ("second", b)):
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise BrainlikeError(f"the {name} RDM must be a square matrix, got shape {m.shape}")
    if a.shape != b.shape:
        raise BrainlikeError(f"RDMs of different sizes: {a.shape} vs {b.shape} (the stimuli must be the same)")
    if a.shape[0] < 3:
        raise BrainlikeError("comparing RDMs needs at least 3 stimuli")
    return a, b


def kendall_tau_a(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-a: (concordant - discordant) / all pairs, ties counting as neither."""
    n = len(x)
    pairs = n * (n - 1) / 2
    tau_b = stats.kendalltau(x, y, variant="b").statistic
    if not np.isfinite(tau_b):
        return 0.0

    # tau-b divides the same numerator by sqrt((pairs - ties in x) * (pairs - ties in y)).
    def tied_pairs(v):
        _, counts = np.unique(v, return_counts=True)
        return float((counts * (counts - 1) / 2).sum())

    return float(tau_b * np.sqrt((pairs - tied_pairs(x)) * (pairs - tied_pairs(y))) / pairs)


def _similarity(x: np.ndarray, y: np.ndarray, method: str) -> float:
    if method == "spearman":
        value = stats.spearmanr(x, y).statistic
        return float(value) if np.isfinite(value) else 0.0
    if method == "kendall":
        return kendall_tau_a(x, y)
    norm = np.linalg.norm(x) * np.linalg.norm(y)
    return float(x @ y / norm) if norm else 0.0


def compare_rdms(a, b, method: str = "spearman") -> float:
    """Similarity of two RDMs over their upper triangles: Spearman rho, Kendall tau-a, or cosine."""
    if method not in COMPARISONS:
        raise BrainlikeError(f"comparison must be one of {', '.join(COMPARISONS)}, not {method!r}")
    a, b = _check_pair(a, b)
    return _similarity(upper(a), upper(b), method)


@dataclass(frozen=True)
class Bootstrap:
    """A statistic on all stimuli and its spread over stimulus bootstrap samples."""

    value: float
    mean: float
    std: float
    ci_low: float
    ci_high: float
    samples: np.ndarray


def bootstrap_compare(
    a, b, method: str = "spearman", *, samples: int = 100, seed: int = 0, confidence: float = 0.95
) -> Bootstrap:
    """compare_rdms() with a bootstrap over stimuli; pairs of a stimulus with its own copy are left out."""
    if samples < 1:
        raise BrainlikeError("bootstrap needs at least one sample")
    value = compare_rdms(a, b, method)
    a, b = _check_pair(a, b)
    n = a.shape[0]
    rng = np.random.default_rng(seed)
    rows, cols = np.triu_indices(n, k=1)
    values = np.empty(samples)
    for k in range(samples):
        pick = rng.integers(0, n, size=n)
        i, j = pick[rows], pick[cols]
        distinct = i != j
        values[k] = _similarity(a[i[distinct], j[distinct]], b[i[distinct], j[distinct]], method)
    tail = (1 - confidence) / 2
    return Bootstrap(
        value,
        float(values.mean()),
        float(values.std(ddof=1)) if samples > 1 else 0.0,
        float(np.quantile(values, tail)),
        float(np.quantile(values, 1 - tail)),
        values,
    )
