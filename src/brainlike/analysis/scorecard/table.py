"""The scorecard's table: models x scores, the rank of each model on each score, and the mean rank."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata


@dataclass
class Scorecard:
    """The outcome of every (model, suite entry); `scores()` and `ranks()` arrange them as a table."""

    models: list[str]
    entries: list[str]
    outcomes: list  # run.Outcome, in model then entry order

    def scores(self) -> dict[str, dict[str, object]]:
        """model -> score name -> Score (names in suite order; a measurement may give several)."""
        table: dict[str, dict[str, object]] = {m: {} for m in self.models}
        for outcome in self.outcomes:
            for score in outcome.scores:
                table[outcome.model][score.name] = score
        return table

    @property
    def columns(self) -> list[str]:
        names: dict[str, None] = {}
        for outcome in self.outcomes:
            for score in outcome.scores:
                names.setdefault(score.name)
        return list(names)

    def ranks(self) -> dict[str, dict[str, float]]:
        """score name -> model -> rank (1 = best; ties share the mean rank; models without a value: absent)."""
        table = self.scores()
        ranks = {}
        for column in self.columns:
            present = [(m, table[m][column]) for m in self.models if column in table[m] and table[m][column].finite]
            if not present:
                ranks[column] = {}
                continue
            sign = -1.0 if present[0][1].higher_is_better else 1.0
            order = rankdata([sign * s.value for _, s in present], method="average")
            ranks[column] = {m: float(r) for (m, _), r in zip(present, order)}
        return ranks

    def mean_ranks(self) -> dict[str, float]:
        ranks = self.ranks()
        mean = {}
        for model in self.models:
            mine = [r[model] for r in ranks.values() if model in r]
            mean[model] = float(np.mean(mine)) if mine else math.nan
        return mean

    def frame(self):
        """A pandas DataFrame, one row per model: each score's value, its rank, and the mean rank."""
        import pandas as pd

        table, ranks, mean = self.scores(), self.ranks(), self.mean_ranks()
        rows = []
        for model in self.models:
            row = {"model": model}
            for column in self.columns:
                score = table[model].get(column)
                row[column] = score.value if score is not None else math.nan
                row[f"{column} rank"] = ranks[column].get(model, math.nan)
            row["mean rank"] = mean[model]
            rows.append(row)
        return pd.DataFrame(rows)

    def status(self) -> dict[str, int]:
        """How many results were measured, reused, measured again, or failed."""
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts
