"""Measures of trial-by-trial behaviour, on DataFrames with one row per trial.

Every function takes trials as `load_responses` gives them (columns observer, image, shape, texture,
response, rt) or as a model's `BehaviourResult.frame()` gives them (the same, plus step and
confidence), so human observers, the recorded CNNs and any brainlike model are measured by the same code.

- shape bias (Geirhos et al. 2019): shape decisions / (shape + texture decisions) over cue-conflict trials
  whose shape and texture categories differ; trials decided for a third category do not count.
- accuracy: the fraction of trials answered with the shape category (on cue-conflict images this counts
  shape decisions only).
- error consistency (Geirhos, Meding & Wichmann 2020, "Beyond accuracy: quantifying trial-by-trial
  behaviour of CNNs and humans by measuring error consistency", NeurIPS): Cohen's kappa of two observers'
  trial-by-trial correctness over the images both saw, kappa = (c_obs - c_exp) / (1 - c_exp), with the
  observed agreement c_obs and the agreement c_exp = p1 p2 + (1 - p1)(1 - p2) expected from their
  accuracies p1, p2 alone. 0: no more agreement than independent observers of those accuracies; 1: the
  same trials right and wrong. The mean over pairs of human observers is the ceiling a model can reach.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np
import pandas as pd

from brainlike.data.geirhos import HUMANS
from brainlike.errors import BrainlikeError


def _need(trials: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in trials.columns]
    if missing:
        raise BrainlikeError(f"{what} needs trial columns {', '.join(missing)} (have {', '.join(trials.columns)})")


def shape_bias(trials: pd.DataFrame, by: str | None = None) -> float | pd.Series:
    """Shape decisions / (shape + texture decisions), pooled over all given cue-conflict trials whose shape
    and texture differ; with `by` (a column: "shape", "observer", "step", …), one value per group.

    A group without a shape or texture decision has NaN; trials with no cue conflict at all are an error.
    """
    _need(trials, ("shape", "texture", "response", *([by] if by else [])), "shape bias")
    conflict = trials[trials["shape"] != trials["texture"]]
    if conflict.empty:
        raise BrainlikeError("shape bias needs cue-conflict trials (shape and texture categories differ); none given")
    counts = pd.DataFrame(
        {
            "shape": (conflict["response"] == conflict["shape"]).to_numpy(int),
            "texture": (conflict["response"] == conflict["texture"]).to_numpy(int),
        },
        index=conflict.index,
    )
    if by is None:
        decided = counts["shape"].sum() + counts["texture"].sum()
        return float(counts["shape"].sum() / decided) if decided else float("nan")
    sums = counts.groupby(conflict[by]).sum()
    decided = sums["shape"] + sums["texture"]
    return (sums["shape"] / decided.where(decided > 0)).rename("shape_bias")


def accuracy(trials: pd.DataFrame, by: str | None = None) -> float | pd.Series:
    """The fraction of trials answered with the shape category; with `by`, one value per group."""
    _need(trials, ("shape", "response", *([by] if by else [])), "accuracy")
    if trials.empty:
        raise BrainlikeError("accuracy of no trials")
    correct = (trials["response"] == trials["shape"]).astype(float)
    if by is None:
        return float(correct.mean())
    return correct.groupby(trials[by]).mean().rename("accuracy")


def _correctness(trials: pd.DataFrame, name: str) -> pd.Series:
    _need(trials, ("image", "shape", "response"), "error consistency")
    if trials["image"].duplicated().any():
        raise BrainlikeError(
            f"{name} has several trials of one image (several observers or readout steps?); give one observer's"
        )
    return pd.Series((trials["response"] == trials["shape"]).to_numpy(), index=trials["image"].to_numpy())


def kappa(correct_a: np.ndarray, correct_b: np.ndarray) -> float:
    """Cohen's kappa of two boolean arrays of correctness with c_exp from their two accuracies.

    When c_exp is 1 (both always right, or both always wrong) the two agree on every trial and kappa is 1.
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    observed = float(np.mean(a == b))
    pa, pb = float(a.mean()), float(b.mean())
    expected = pa * pb + (1 - pa) * (1 - pb)
    if expected >= 1.0:
        return 1.0
    return (observed - expected) / (1 - expected)


def error_consistency(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """Error consistency (Cohen's kappa of correctness) of two observers' trials over the images both saw."""
    left, right = _correctness(a, "a"), _correctness(b, "b")
    common = left.index.intersection(right.index)
    if common.empty:
        raise BrainlikeError("the two observers saw no image in common")
    return kappa(left[common].to_numpy(), right[common].to_numpy())


def _observers(trials: pd.DataFrame) -> dict[str, pd.DataFrame]:
    _need(trials, ("observer",), "error consistency between observers")
    return {name: group for name, group in trials.groupby("observer", sort=False)}


def pairwise_consistency(trials: pd.DataFrame) -> pd.DataFrame:
    """Error consistency of every pair of observers in `trials` (a symmetric observer x observer table)."""
    groups = _observers(trials)
    names = list(groups)
    table = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for x, y in itertools.combinations(names, 2):
        table.loc[x, y] = table.loc[y, x] = error_consistency(groups[x], groups[y])
    return table


def human_pairs(trials: pd.DataFrame) -> list[float]:
    """Error consistency of each pair of human observers (subject-01 … subject-10) in `trials`."""
    groups = {k: v for k, v in _observers(trials).items() if k in HUMANS}
    if len(groups) < 2:
        raise BrainlikeError("the human ceiling needs the trials of at least two human observers")
    return [error_consistency(groups[x], groups[y]) for x, y in itertools.combinations(groups, 2)]


def human_ceiling(trials: pd.DataFrame) -> float:
    """The mean error consistency over pairs of human observers: what a human-like model reaches."""
    return float(np.mean(human_pairs(trials)))


def consistency_with_humans(observer: pd.DataFrame, trials: pd.DataFrame) -> pd.Series:
    """Error consistency of one observer's trials with each human observer in `trials` (itself excluded)."""
    own = set(observer["observer"]) if "observer" in observer.columns else set()
    humans = {k: v for k, v in _observers(trials).items() if k in HUMANS and k not in own}
    if not humans:
        raise BrainlikeError("no human observer's trials to compare with")
    return pd.Series({k: error_consistency(observer, v) for k, v in humans.items()}, name="error_consistency")
