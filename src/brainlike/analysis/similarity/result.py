"""The similarity of every layer of one model to every layer of another, with bootstrap intervals."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from brainlike.analysis.similarity.sources import LayerKey
from brainlike.errors import BrainlikeError


@dataclass
class SimilarityResult:
    """values[i, j]: the similarity (or, for Procrustes, the distance) of layer i of `a` to layer j of `b`
    on all matched stimuli; ci_low / ci_high: the bootstrap percentile interval over stimuli (None without
    a bootstrap)."""

    a: str
    b: str
    method: str
    higher_is_similar: bool
    a_layers: list[LayerKey]
    b_layers: list[LayerKey]
    values: np.ndarray
    ci_low: np.ndarray | None
    ci_high: np.ndarray | None
    stimuli: int
    bootstrap: int
    confidence: float
    settings: dict = field(default_factory=dict)

    def value(self, a_layer: str, b_layer: str) -> float:
        """The value for two layers given by name (e.g. "V4.output-t1")."""
        names_a, names_b = [k.name for k in self.a_layers], [k.name for k in self.b_layers]
        if a_layer not in names_a or b_layer not in names_b:
            raise BrainlikeError(f"no pair {a_layer!r} x {b_layer!r}; layers are {names_a} and {names_b}")
        return float(self.values[names_a.index(a_layer), names_b.index(b_layer)])

    def best_matches(self) -> list[tuple[LayerKey, LayerKey, float]]:
        """For each layer of `a`, the most similar layer of `b` (nearest, for a distance)."""
        sign = 1 if self.higher_is_similar else -1
        matches = []
        for i, key in enumerate(self.a_layers):
            row = sign * self.values[i]
            if np.isfinite(row).any():
                j = int(np.nanargmax(row))
                matches.append((key, self.b_layers[j], float(self.values[i, j])))
        return matches

    def frame(self):
        """A pandas DataFrame, one row per (layer of a, layer of b)."""
        import pandas as pd

        rows = []
        for i, ka in enumerate(self.a_layers):
            for j, kb in enumerate(self.b_layers):
                rows.append(
                    {
                        "a_layer": ka.name,
                        "a_area": ka.area,
                        "a_step": ka.step,
                        "b_layer": kb.name,
                        "b_area": kb.area,
                        "b_step": kb.step,
                        "value": self.values[i, j],
                        "ci_low": None if self.ci_low is None else self.ci_low[i, j],
                        "ci_high": None if self.ci_high is None else self.ci_high[i, j],
                    }
                )
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class StepTrajectory:
    """One area of a recurrent model: each step's similarity to the area's first and to its last step."""

    area: str
    steps: list[int]
    to_first: list[float]
    to_last: list[float]


def trajectories(result: SimilarityResult) -> list[StepTrajectory]:
    """The per-area trajectories from a comparison of a feature set with itself (areas with 2+ steps)."""
    where = {k: j for j, k in enumerate(result.b_layers)}
    found = []
    for area in dict.fromkeys(k.area for k in result.a_layers):
        keys = sorted((k for k in result.a_layers if k.area == area and k.step is not None), key=lambda k: k.step)
        if len(keys) < 2 or any(k not in where for k in keys):
            continue
        rows = [result.a_layers.index(k) for k in keys]
        first, last = where[keys[0]], where[keys[-1]]
        found.append(
            StepTrajectory(
                area,
                [k.step for k in keys],
                [float(result.values[i, first]) for i in rows],
                [float(result.values[i, last]) for i in rows],
            )
        )
    return found
