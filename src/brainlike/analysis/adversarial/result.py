"""What an adversarial evaluation found: per-image scores, robust accuracy per readout step, intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from brainlike.analysis.adversarial.budgets import Budget

Z95 = 1.959963984540054


def wilson_interval(successes: float, trials: int, z: float = Z95) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion (successes may be fractional: mean scores x trials)."""
    if trials == 0:
        return (math.nan, math.nan)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class AdversarialResult:
    """Clean and robust top-1 of `model` on `images` images.

    clean: (images, readout steps) fraction of noise evaluations classified right (0 or 1 for a
    deterministic model). robust[objective][budget key]: the same for the worst adversarial image found.
    examples: pixels of the first few images ("clean", "labels") and their adversarial versions under
    the first objective (one tensor per budget key).
    """

    model: str
    images: int
    budgets: list[Budget]
    clean: np.ndarray
    robust: dict[str, dict[str, np.ndarray]]
    stochastic: bool = False
    eot_samples: int = 1
    noise_evaluations: int = 1
    restarts: int = 0
    examples: dict = field(default_factory=dict, repr=False)

    @property
    def objectives(self) -> list[str]:
        return list(self.robust)

    @property
    def readout_steps(self) -> int:
        return self.clean.shape[1]

    def clean_top1(self) -> list[float]:
        return self.clean.mean(axis=0).tolist()

    def top1(self, key: str, objective: str = "last") -> list[float]:
        """Robust top-1 per readout step under the budget `key` (e.g. "linf 1/255")."""
        return self.robust[objective][key].mean(axis=0).tolist()

    def intervals(self, scores: np.ndarray) -> list[tuple[float, float]]:
        """95 % interval per readout step, over images (each image one trial of its mean score)."""
        return [wilson_interval(float(column.sum()), len(column)) for column in scores.T]

    def frame(self):
        """A pandas DataFrame, one row per (objective, budget, readout step), clean rows first
        (objective "clean", norm "none", epsilon 0); top1 and its 95 % interval as fractions."""
        import pandas as pd

        rows = []
        cells = [("clean", "none", 0.0, "0", self.clean)]
        cells += [
            (objective, b.norm, b.epsilon, b.label, self.robust[objective][b.key])
            for objective in self.robust
            for b in self.budgets
        ]
        for objective, norm, epsilon, label, scores in cells:
            for step, (mean, (low, high)) in enumerate(zip(scores.mean(axis=0), self.intervals(scores))):
                rows.append((objective, norm, epsilon, label, step, float(mean), low, high))
        columns = ["objective", "norm", "epsilon", "label", "readout_step", "top1", "ci_low", "ci_high"]
        return pd.DataFrame(rows, columns=columns)
