"""method="lbfgs": L-BFGS-B in float64 on the cost itself, over `variables.LogVariables`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from brainlike.anatomy.checkpoints import resumed_values, save_values
from brainlike.anatomy.optimiser import FitResult, Progress, Values, check_start, finish, load_solvers
from brainlike.anatomy.problem import Problem, cost_terms, full_weights, total_cost
from brainlike.anatomy.variables import LogVariables


def fit_lbfgs(
    problem: Problem,
    start: Values,
    weights: Mapping[str, float] | None = None,
    *,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    on_step: Progress | None = None,
    **options: Any,
) -> FitResult:
    """L-BFGS-B in float64 on (log c, log sigma, log RF growth), c and sigma boxed to [1e-4, 1].

    Options (see `descend`): `max_iterations`, `tolerance` (scipy's ftol) and `checkpoint_every`
    (iterations). Resuming starts from the values of an "lbfgs" checkpoint.
    """
    start = check_start(problem, resumed_values(checkpoint, resume, "lbfgs", start))
    load_solvers()
    return descend(
        problem, start, full_weights(weights), checkpoint=checkpoint, label="lbfgs", on_step=on_step, **options
    )


def descend(
    problem: Problem,
    start: Values,
    weights: Mapping[str, float],
    *,
    checkpoint: str | Path | None,
    label: str,
    on_step: Progress | None,
    max_iterations: int = 20_000,
    tolerance: float = 1e-13,
    checkpoint_every: int = 200,
) -> FitResult:
    """The L-BFGS-B run itself; its checkpoints carry the method `label` of the fit it is part of."""
    from scipy.optimize import Bounds, minimize

    begin = time.perf_counter()
    t = problem.tensors(torch.float64)
    space = LogVariables(problem)
    state = {"iterations": 0, "curve": []}

    def evaluate(x: np.ndarray) -> tuple[float, np.ndarray]:
        z = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        cost = total_cost(cost_terms(t, *space.unpack(z)), weights)
        cost.backward()
        state["last"] = (x.copy(), cost.item())
        return cost.item(), z.grad.numpy()

    def after_iteration(x: np.ndarray) -> None:
        state["iterations"] += 1
        seen, value = state["last"]
        if not np.array_equal(seen, x):
            value = evaluate(x)[0]
        state["curve"].append((state["iterations"], value))
        if on_step:
            on_step(state["iterations"], value)
        if checkpoint and state["iterations"] % checkpoint_every == 0:
            save_values(checkpoint, label, space.values(x), state["iterations"])

    result = minimize(
        evaluate,
        space.pack(start),
        jac=True,
        method="L-BFGS-B",
        bounds=Bounds(*space.bounds()),
        callback=after_iteration,
        options={
            "maxiter": max_iterations,
            "maxfun": 4 * max_iterations,
            "ftol": tolerance,
            "gtol": 1e-12,
            "maxcor": 30,
        },
    )
    values = space.values(result.x)
    if checkpoint:
        save_values(checkpoint, label, values, state["iterations"])
    return finish(problem, values, weights, begin, "lbfgs", state["iterations"], state["curve"])
