"""Bootstrap KS similarity between a model's and a published distribution, and its ceiling.

Brain-Score's `BootstrapDistributionSimilarity`: values are clipped to the data's bin range and
histogrammed over its bins; KS(p, q) = max |cumsum p - cumsum q|, normalised by the largest KS any
histogram can have against q (all mass in the first or last bin); similarity = 1 - KS/KS_max. The model
is resampled with replacement, n_rows draws per sample (the rows of the data assembly, NaN filler
included), and the mean similarity over the samples is the score. The ceiling is the same procedure
with the data as the model. Only bin membership matters, so values are binned once and the bins are
resampled; the original's unseeded RNG is replaced by a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brainlike.analysis.v1.protocol import BOOTSTRAP_SAMPLES, MAX_NAN_SAMPLES
from brainlike.analysis.v1.targets import Target
from brainlike.errors import BrainlikeError

MISSING = -1


def bin_indices(values: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Bin of each value after clipping to [bins[0], bins[-1]] (the last edge belongs to the last bin);
    NaN values get `MISSING`."""
    values = np.asarray(values, dtype=float)
    clipped = np.clip(values, bins[0], bins[-1])
    index = np.searchsorted(bins, clipped, side="right") - 1
    index = np.minimum(index, len(bins) - 2)
    return np.where(np.isnan(values), MISSING, index)


def histogram(values: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Counts of the clipped, non-NaN values per bin."""
    index = bin_indices(values, bins)
    return np.bincount(index[index != MISSING], minlength=len(bins) - 1)


def ks_similarity(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """1 - KS(p, q) / KS_max(q) for histograms p (..., bins) and q (bins); NaN where p is empty."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float) / np.sum(q)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = p / p.sum(axis=-1, keepdims=True)
    ks = np.max(np.abs(np.cumsum(p, axis=-1) - np.cumsum(q)), axis=-1)
    ks_max = max(1 - q[0], 1 - q[-1])
    return 1 - ks / ks_max


@dataclass(frozen=True)
class Similarity:
    score: float
    error: float
    samples: int
    nan_samples: int


def bootstrap_similarity(
    model_bins: np.ndarray, data_counts: np.ndarray, n_draws: int, *, seed: int = 0, samples: int = BOOTSTRAP_SAMPLES
) -> Similarity:
    """Resample `model_bins` (bin index per model row, `MISSING` for NaN) `samples` times, `n_draws`
    rows each, and compare each resample's histogram with `data_counts`."""
    model_bins = np.asarray(model_bins, dtype=np.int64)
    if model_bins.size == 0:
        return Similarity(0.0, 0.0, samples, samples)
    n_bins = len(data_counts)
    rng = np.random.default_rng(seed)
    draws = model_bins[rng.integers(0, model_bins.size, size=(samples, n_draws))]
    # One bincount over all samples at once: sample s, bin b -> slot s * (n_bins + 1) + b + 1.
    slots = (np.arange(samples)[:, None] * (n_bins + 1) + draws + 1).ravel()
    counts = np.bincount(slots, minlength=samples * (n_bins + 1)).reshape(samples, n_bins + 1)[:, 1:]
    values = ks_similarity(counts, data_counts)
    nan = int(np.isnan(values).sum())
    if nan > MAX_NAN_SAMPLES:
        return Similarity(0.0, 0.0, samples, nan)
    return Similarity(float(np.nanmean(values)), float(np.nanstd(values)), samples, nan)


def data_bins(target: Target) -> np.ndarray:
    """The data assembly as bin indices: each neuron in its bin, NaN filler rows as `MISSING`."""
    if not target.has_counts:
        raise BrainlikeError(f"{target.dataset} {target.property}: the histogram counts are not public")
    rows = np.repeat(np.arange(len(target.counts)), target.counts)
    filler = np.full(target.n_rows - rows.size, MISSING)
    return np.concatenate([rows, filler])


def ceiling(target: Target, *, seed: int = 0, samples: int = BOOTSTRAP_SAMPLES) -> Similarity:
    """The data against itself: Brain-Score's `NeuronalPropertyCeiling`."""
    return bootstrap_similarity(data_bins(target), target.counts, target.n_rows, seed=seed, samples=samples)


def model_similarity(
    values: np.ndarray, target: Target, *, seed: int = 0, samples: int = BOOTSTRAP_SAMPLES
) -> Similarity:
    """Raw (unceiled) similarity of a model's per-unit values to a published histogram."""
    if not target.has_counts:
        raise BrainlikeError(f"{target.dataset} {target.property}: the histogram counts are not public")
    return bootstrap_similarity(
        bin_indices(values, target.bins), target.counts, target.n_rows, seed=seed, samples=samples
    )
