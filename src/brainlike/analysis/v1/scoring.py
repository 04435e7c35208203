"""Scores of measured V1 properties against the published distributions, and their group means.

A property whose histogram counts ship with brainlike gets the bootstrap KS similarity divided by
its ceiling (the data against itself). Ringach 2002 counts are not public, so those properties get
the model's distribution on the published bins and no score; the texture properties are not
measured. A group's score is the mean over its scored benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brainlike.analysis.v1.protocol import BENCHMARKS, GROUPS, RINGACH_NOT_SCORED, TEXTURES_NOT_MEASURED
from brainlike.analysis.v1.similarity import ceiling, histogram, model_similarity
from brainlike.analysis.v1.targets import shipped_targets

SCORED, DISTRIBUTION, NOT_MEASURED = "scored", "distribution only", "not measured"


@dataclass(frozen=True)
class PropertyScore:
    property: str
    dataset: str
    benchmark: str | None
    group: str | None
    status: str
    score: float = float("nan")  # raw / ceiling
    raw: float = float("nan")
    ceiling: float = float("nan")
    error: float = float("nan")
    units: int = 0  # units the dataset's response criterion keeps
    model_median: float = float("nan")
    data_median: float = float("nan")
    bins: tuple[float, ...] = ()
    model_counts: tuple[int, ...] = ()
    data_counts: tuple[int, ...] | None = None
    note: str = ""


@dataclass(frozen=True)
class GroupScore:
    group: str
    score: float
    scored: int
    benchmarks: int


def score_properties(
    values: dict[str, np.ndarray], kept: dict[str, np.ndarray], *, seed: int = 0
) -> list[PropertyScore]:
    """One `PropertyScore` per Marques2020 benchmark, then per other shipped distribution."""
    by_key = {(t.dataset, t.property): t for t in shipped_targets()}
    benchmark_of = {(b.dataset, b.property): b for b in BENCHMARKS}
    keys = [(b.dataset, b.property) for b in BENCHMARKS] + [k for k in by_key if k not in benchmark_of]
    scores = []
    for dataset, prop in keys:
        bench = benchmark_of.get((dataset, prop))
        common = {
            "property": prop,
            "dataset": dataset,
            "benchmark": bench.identifier if bench else None,
            "group": bench.group if bench else None,
        }
        target = by_key.get((dataset, prop))
        if target is None or prop not in values:
            scores.append(PropertyScore(**common, status=NOT_MEASURED, note=TEXTURES_NOT_MEASURED))
            continue
        model = values[prop][kept[prop]]
        finite = model[np.isfinite(model)]
        summary = {
            "units": int(model.size),
            "bins": tuple(target.bins.tolist()),
            "model_counts": tuple(histogram(model, target.bins).tolist()),
            "model_median": float(np.median(finite)) if finite.size else float("nan"),
            "data_median": target.median(),
        }
        if not target.has_counts:
            scores.append(PropertyScore(**common, status=DISTRIBUTION, note=RINGACH_NOT_SCORED, **summary))
            continue
        raw = model_similarity(model, target, seed=seed)
        top = ceiling(target, seed=seed).score
        note = "" if model.size else "no unit passes the dataset's response criterion"
        scores.append(
            PropertyScore(
                **common,
                status=SCORED,
                score=raw.score / top,
                raw=raw.score,
                ceiling=top,
                error=raw.error,
                data_counts=tuple(target.counts.tolist()),
                note=note,
                **summary,
            )
        )
    return scores


def group_scores(scores: list[PropertyScore]) -> list[GroupScore]:
    groups = []
    for group in GROUPS:
        members = [s for s in scores if s.group == group]
        scored = [s.score for s in members if s.status == SCORED]
        groups.append(GroupScore(group, float(np.mean(scored)) if scored else float("nan"), len(scored), len(members)))
    return groups
