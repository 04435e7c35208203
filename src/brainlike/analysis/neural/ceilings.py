"""How consistent the recordings are with themselves: split-half noise ceilings of responses and of their
RDMs, Spearman-Brown corrected as Brain-Score computes them, and the per-neuroid Pearson r they share
with the fits."""

from __future__ import annotations

import numpy as np

from brainlike.errors import BrainlikeError


def pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r between matching columns of a and b (N, M); 0 where a column is constant."""
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    norm = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=0) / norm
    return np.where(norm > 0, r, 0.0)


def spearman_brown(r: np.ndarray, factor: float = 2.0) -> np.ndarray:
    """Reliability of `factor` times as many trials from the reliability r."""
    return factor * r / (1 + (factor - 1) * r)


def split_half_means(responses: np.ndarray, *, splits: int, seed: int, what: str):
    """Yield `splits` random pairs of disjoint half-means over the repetitions of (repetition, ...)."""
    reps = responses.shape[0]
    if reps < 2:
        raise BrainlikeError(f"{what} needs at least 2 repetitions per stimulus")
    rng = np.random.default_rng(seed)
    for _ in range(splits):
        order = rng.permutation(reps)
        yield (responses[order[: reps // 2]].mean(axis=0), responses[order[reps // 2 : 2 * (reps // 2)]].mean(axis=0))


def noise_ceiling(responses: np.ndarray, *, splits: int = 10, seed: int = 0) -> np.ndarray:
    """Per-neuroid split-half consistency of (repetition, stimulus, neuroid), Spearman-Brown corrected."""
    halves = split_half_means(responses, splits=splits, seed=seed, what="a noise ceiling")
    return np.mean([spearman_brown(pearson_columns(a, b)) for a, b in halves], axis=0)


def rdm_ceiling(responses: np.ndarray, *, metric: str = "correlation", splits: int = 10, seed: int = 0) -> float:
    """Split-half Spearman agreement of neural RDMs from (repetition, stimulus, neuroid), Spearman-Brown corrected."""
    from brainlike.analysis.rsa import compare_rdms, rdm

    halves = split_half_means(responses, splits=splits, seed=seed, what="an RDM ceiling")
    return float(
        np.mean([spearman_brown(np.array(compare_rdms(rdm(a, metric), rdm(b, metric), "spearman"))) for a, b in halves])
    )
