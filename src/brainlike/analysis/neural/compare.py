"""Every layer of a features file scored against neural data, one layer in memory at a time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from brainlike.analysis.neural.ceilings import noise_ceiling, rdm_ceiling
from brainlike.analysis.neural.data import NeuralData, load_neural, match_stimuli
from brainlike.analysis.neural.fitting import predictivity
from brainlike.errors import BrainlikeError
from brainlike.registry import TimeBin, nearest_step

METHODS = ("ridge", "pls", "rsa")


@dataclass(frozen=True)
class LayerScore:
    """The score of one layer (area, step) against the neural data, or against one of its time bins.

    `time_bin_ms` is the bin the model commits the step to; `neural_bin_ms` the recording's bin (None for
    data without time bins); `time_matched` whether the model's time mapping assigns this step of its area
    to that neural bin. `value` is the ceiling-normalised score where a ceiling exists, else the raw one.
    """

    area: str
    step: int
    layer: str
    time_bin_ms: TimeBin | None
    score: float
    ceiling: float | None
    normalized: float | None
    ci: tuple[float, float] | None = None
    neural_bin_ms: TimeBin | None = None
    time_matched: bool = False

    @property
    def value(self) -> float:
        return self.normalized if self.normalized is not None else self.score


@dataclass(frozen=True)
class _Target:
    """What one neural time bin is compared with: trial-averaged responses or their RDM, and the ceiling."""

    time_bin: TimeBin | None
    data: NeuralData
    rdm: np.ndarray | None
    ceiling: np.ndarray | float | None


def _targets(data: NeuralData, method: str, metric: str, seed: int) -> list[_Target]:
    from brainlike.analysis.rsa import rdm

    targets = []
    for time_bin, part in data.bins():
        repeated = part.repetitions > 1
        if method == "rsa":
            ceiling = rdm_ceiling(part.responses, metric=metric, seed=seed) if repeated else None
            targets.append(_Target(time_bin, part, rdm(part.mean, metric), ceiling))
        else:
            targets.append(
                _Target(time_bin, part, None, noise_ceiling(part.responses, seed=seed) if repeated else None)
            )
    return targets


def _mark_time_matched(scores: list[LayerScore]) -> list[LayerScore]:
    """Flag, per area and neural bin, the step the model's time mapping assigns to that bin."""
    matched = set()
    for area in dict.fromkeys(s.area for s in scores):
        steps = {s.step: s.time_bin_ms for s in scores if s.area == area}
        for neural_bin in dict.fromkeys(s.neural_bin_ms for s in scores):
            matched.add((area, nearest_step(steps, neural_bin), neural_bin))
    return [replace(s, time_matched=(s.area, s.step, s.neural_bin_ms) in matched) for s in scores]


def _rdm_score(model_rdm: np.ndarray, neural_rdm: np.ndarray, *, bootstrap: int, seed: int):
    """Spearman agreement of two RDMs, with its bootstrap 95% interval over stimuli when `bootstrap`."""
    from brainlike.analysis.rsa import bootstrap_compare, compare_rdms

    if not bootstrap:
        return compare_rdms(model_rdm, neural_rdm, "spearman"), None
    spread = bootstrap_compare(model_rdm, neural_rdm, "spearman", samples=bootstrap, seed=seed)
    return spread.value, (spread.ci_low, spread.ci_high)


def _score(x: np.ndarray, model_rdm, target: _Target, *, method: str, folds: int, seed: int, bootstrap: int) -> dict:
    """score, ceiling, normalized and ci of one layer's features `x` against one target."""
    if method == "rsa":
        score, ci = _rdm_score(model_rdm, target.rdm, bootstrap=bootstrap, seed=seed)
        normalized = score / target.ceiling if target.ceiling else None
        return dict(score=score, ceiling=target.ceiling, normalized=normalized, ci=ci)
    fit = predictivity(x, target.data.responses, method=method, folds=folds, seed=seed, ceiling=target.ceiling)
    return dict(score=fit.score, ceiling=fit.ceiling_score, normalized=fit.normalized)


def compare_features(
    features: str | Path,
    neural: str | Path | NeuralData,
    *,
    method: str = "ridge",
    folds: int = 5,
    seed: int = 0,
    bootstrap: int = 100,
    metric: str = "correlation",
    progress: bool = True,
) -> list[LayerScore]:
    """Score every (area, step) of a features file against neural data, reading one layer at a time;
    time-binned data gives one score per layer and neural time bin."""
    from tqdm import tqdm

    from brainlike.analysis.features import feature_layers, load_layer, stimulus_ids
    from brainlike.analysis.rsa import rdm

    if method not in METHODS:
        raise BrainlikeError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    data = neural if isinstance(neural, NeuralData) else load_neural(neural)
    rows = match_stimuli(stimulus_ids(features), data.stimulus_ids)
    # the features' stimulus order, so that folds and bootstrap samples do not depend on the neural file's rows
    data, rows = data.reordered(np.argsort(rows)), np.sort(rows)
    if len(rows) < 3:
        raise BrainlikeError(f"only {len(rows)} stimuli in common; a comparison needs more")
    targets = _targets(data, method, metric, seed)
    scores = []
    for area, step in tqdm(feature_layers(features), unit="layer", disable=not progress, desc=method):
        layer = load_layer(features, area, step)
        x = layer.values[rows].reshape(len(rows), -1)
        start, end = layer.attrs["time_bin_ms"]
        named = dict(area=area, step=step, layer=layer.name, time_bin_ms=None if np.isnan(start) else (start, end))
        model_rdm = rdm(x, metric) if method == "rsa" else None
        for target in targets:
            scored = _score(x, model_rdm, target, method=method, folds=folds, seed=seed, bootstrap=bootstrap)
            scores.append(LayerScore(**named, **scored, neural_bin_ms=target.time_bin))
    return _mark_time_matched(scores) if data.time_bins_ms else scores
