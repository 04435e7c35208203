"""Behaviour per readout step of a recurrent model: when does it decide, and do humans take long on the
same images?

A model's "decision time" for an image is measured two ways, from its trials at every readout step
(`BehaviourResult.frame(step=None)`):

- `stable_step`: the first step from which the decision no longer changes (0 when it never changes);
- `confident_step`: the first step at which its confidence passes `threshold` (default 0.5). Confidence
  is the probability of the decided category among the covered ones: each category's mean softmax
  probability, renormalised to sum to 1 over the categories (so chance is 1/16 with 16 categories, and
  0.5 means the decided category holds half of the mass the categories hold together). An image
  whose confidence never gets there is censored at `steps` (one past the last step), which a rank
  correlation treats as "later than every step".

Their Spearman correlation with the human mean reaction time per image comes with a percentile
bootstrap interval over images.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata, spearmanr

from brainlike.data.geirhos import HUMANS
from brainlike.errors import BrainlikeError

THRESHOLD = 0.5
BOOTSTRAP = 1000


def decision_times(trials: pd.DataFrame, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Per image: `stable_step`, `confident_step` (censored at `steps` when never confident) and `steps`."""
    missing = [c for c in ("image", "step", "response", "confidence") if c not in trials.columns]
    if missing:
        raise BrainlikeError(f"decision times need a model's trials at every step (no {', '.join(missing)})")
    if not 0 < threshold <= 1:
        raise BrainlikeError(f"the confidence threshold must lie in (0, 1], not {threshold}")
    responses = trials.pivot(index="image", columns="step", values="response").sort_index(axis=1)
    confidence = trials.pivot(index="image", columns="step", values="confidence").sort_index(axis=1)
    if responses.isna().any().any():
        raise BrainlikeError("decision times need every image at every readout step")
    decided = responses.to_numpy()
    steps = decided.shape[1]
    changed = decided != decided[:, -1:]
    last_change = np.where(changed.any(axis=1), steps - 1 - np.argmax(changed[:, ::-1], axis=1), -1)
    confident = confidence.to_numpy() >= threshold
    confident_step = np.where(confident.any(axis=1), np.argmax(confident, axis=1), steps)
    return pd.DataFrame(
        {"stable_step": last_change + 1, "confident_step": confident_step, "steps": steps}, index=responses.index
    )


def human_rt(trials: pd.DataFrame) -> pd.Series:
    """The mean reaction time (s) per image over the human observers' answered trials."""
    humans = trials[trials["observer"].isin(HUMANS) & trials["rt"].notna()]
    if humans.empty:
        raise BrainlikeError("no human reaction times in these trials")
    return humans.groupby("image")["rt"].mean().rename("human_rt")


@dataclass(frozen=True)
class Correlation:
    """Spearman's rho with a percentile bootstrap interval over images (NaN where undefined)."""

    rho: float
    low: float
    high: float
    images: int
    level: float
    resamples: int

    def as_dict(self) -> dict:
        return asdict(self)


def spearman_bootstrap(
    x: pd.Series, y: pd.Series, *, resamples: int = BOOTSTRAP, level: float = 0.95, seed: int = 0
) -> Correlation:
    """Spearman correlation of two series over their common index, with a bootstrap interval over items."""
    common = x.index.intersection(y.index)
    a, b = x[common].to_numpy(float), y[common].to_numpy(float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = len(a)
    if n < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return Correlation(float("nan"), float("nan"), float("nan"), n, level, 0)
    rho = float(spearmanr(a, b).statistic)
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    ra, rb = rankdata(a[draws], axis=1), rankdata(b[draws], axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rhos = (ra * rb).sum(axis=1) / np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    tail = 100 * (1 - level) / 2
    low, high = np.nanpercentile(rhos, [tail, 100 - tail])
    return Correlation(rho, float(low), float(high), n, level, resamples)


def decision_time_correlations(
    times: pd.DataFrame, rts: pd.Series, *, resamples: int = BOOTSTRAP, seed: int = 0
) -> dict[str, Correlation]:
    """Spearman correlation of each decision-time measure with the human mean reaction time per image."""
    return {
        column: spearman_bootstrap(times[column], rts, resamples=resamples, seed=seed)
        for column in ("stable_step", "confident_step")
    }
