"""The one interface of CALC's optimisers, and the result they all return.

Every optimiser (`lsq.fit_least_squares`, `lbfgs.fit_lbfgs`, `adam.fit_adam`; by method name in
`fit.OPTIMISERS`) is called as

    fit(problem, start, weights=None, *, checkpoint=None, resume=False, on_step=None, **options) -> FitResult

with `start` the values (c, sigma, w_rf) to start from, `weights` term weights over
`problem.DEFAULT_WEIGHTS`, `checkpoint` a file the fit saves its state to (see `checkpoints`),
`resume` to continue from that file when it exists, `on_step(step, cost)` called as it goes, and
options of its own (iteration limits, checkpoint intervals).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from brainlike.anatomy.problem import Problem, cost_terms, kernel_widths_squared, network_quantities
from brainlike.errors import BrainlikeError

Values = tuple[np.ndarray, np.ndarray, np.ndarray]
Progress = Callable[[int, float], None]


@dataclass
class FitResult:
    problem: Problem
    c: np.ndarray
    sigma: np.ndarray
    w_rf: np.ndarray
    terms: dict[str, float]
    total: float
    seconds: float
    method: str
    iterations: int
    curve: list[tuple[int, float]] = field(default_factory=list)

    @property
    def values(self) -> Values:
        return self.c, self.sigma, self.w_rf

    def kernel_widths(self) -> np.ndarray:
        t = self.problem.tensors(torch.float64)
        return torch.sqrt(kernel_widths_squared(t, torch.as_tensor(self.w_rf))).numpy()

    def comparison(self) -> dict[str, list[dict[str, Any]]]:
        """Target vs achieved: n, e and w_rf per population; f or b per projection."""
        p = self.problem
        t = p.tensors(torch.float64)
        with torch.no_grad():
            q = network_quantities(t, *(torch.as_tensor(v) for v in self.values))
        populations = []
        for i, pop in enumerate(p.system.populations):
            populations.append(
                {
                    "name": pop.name,
                    "n_target": pop.n,
                    "n": p.m[i] * p.width[i] ** 2,
                    "e_target": pop.e,
                    "e": q["in_degree"][i].item() if i else None,
                    "w_target": pop.w,
                    "w_rf": float(self.w_rf[i]),
                }
            )
        projections = []
        for k, proj in enumerate(p.system.projections):
            row = {
                "name": proj.name,
                "kind": "f" if proj.inter_area else "b",
                "target": proj.f if proj.inter_area else proj.b,
            }
            row["achieved"] = (q["flne"][k] if proj.inter_area else q["inputs"][k]).item()
            projections.append(row)
        return {"populations": populations, "projections": projections}


class Optimiser(Protocol):
    """What every optimiser takes; each adds keyword options of its own, all with defaults."""

    def __call__(
        self,
        problem: Problem,
        start: Values,
        weights: Mapping[str, float] | None = None,
        *,
        checkpoint: str | Path | None = None,
        resume: bool = False,
        on_step: Progress | None = None,
    ) -> FitResult: ...


def check_start(problem: Problem, start) -> Values:
    """`start` as float arrays: one c and one sigma per connection, one w_rf per layer."""
    c, sigma, w_rf = (np.asarray(v, dtype=float) for v in start)
    k, n = len(problem.pre), len(problem.names)
    if c.shape != (k,) or sigma.shape != (k,) or w_rf.shape != (n,):
        raise BrainlikeError(f"start values need {k} c, {k} sigma and {n} w_rf values")
    return c, sigma, w_rf


def finish(
    problem: Problem,
    values: Values,
    weights: Mapping[str, float],
    begin: float,
    method: str,
    iterations: int,
    curve: list[tuple[int, float]],
) -> FitResult:
    """The FitResult of `values`, its cost terms evaluated in float64, timed from `begin`."""
    t = problem.tensors(torch.float64)
    with torch.no_grad():
        terms = cost_terms(t, *(torch.as_tensor(v, dtype=torch.float64) for v in values))
    numbers = {k: v.item() for k, v in terms.items()}
    total = sum(weights[k] * v for k, v in numbers.items())
    c, sigma, w_rf = values
    return FitResult(problem, c, sigma, w_rf, numbers, total, time.perf_counter() - begin, method, iterations, curve)


def load_solvers() -> None:
    """Import scipy's solvers and torch.func's machinery (about 2 s on first use, loaded lazily so that
    `import brainlike` stays light) before a fit starts its clock: `seconds` times the fit itself."""
    import scipy.optimize  # noqa: F401

    torch.func.jacrev(torch.sin)(torch.zeros(1, dtype=torch.float64))
