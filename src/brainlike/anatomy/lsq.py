"""method="lsq" (the default): trust-region least squares on the cost written as a sum of squares.

Every match term is a mean of squared log ratios, the dead-end term a mean of squares and the soft
limits sums of hinges h (residual sqrt(weight h)), so the cost is a sum of squares (`residuals`). A
Gauss-Newton-type method with the exact Jacobian (autograd, reverse mode) converges in tens of
evaluations instead of CALC's 200,100 Adam steps, and handles the box 1e-4 <= c, sigma <= 1 exactly.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from brainlike.anatomy.checkpoints import resumed_values, save_values
from brainlike.anatomy.lbfgs import descend
from brainlike.anatomy.optimiser import FitResult, Progress, Values, check_start, finish, load_solvers
from brainlike.anatomy.problem import Problem, full_weights, residuals
from brainlike.anatomy.variables import LogVariables

# the cost is a sum of squares, so below this it is zero to rounding: a second route cannot improve it
EXACT = 1e-12


def fit_least_squares(
    problem: Problem,
    start: Values,
    weights: Mapping[str, float] | None = None,
    *,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    on_step: Progress | None = None,
    max_evaluations: int = 2000,
    checkpoint_every: int = 20,
) -> FitResult:
    """Trust-region reflective least squares on the whole cost, along two routes; the better result.

    Where kernel limits bind, the cost has several basins, so besides least squares from `start` a
    second route (L-BFGS-B from the same start, then least squares from where it stops) is taken too.
    Resuming starts from the values of an "lsq" checkpoint.
    """
    weights = full_weights(weights)
    start = check_start(problem, resumed_values(checkpoint, resume, "lsq", start))
    load_solvers()
    begin = time.perf_counter()
    options = dict(weights=weights, checkpoint=checkpoint, on_step=on_step)
    direct = _least_squares(problem, start, max_evaluations, checkpoint_every, **options)
    evaluations = direct.iterations
    if direct.total > EXACT:
        descent = descend(problem, start, label="lsq", **options)
        refined = _least_squares(problem, descent.values, max_evaluations, checkpoint_every, **options)
        evaluations += descent.iterations + refined.iterations
        direct = min((direct, descent, refined), key=lambda r: r.total)
    direct.iterations, direct.method = evaluations, "lsq"
    direct.seconds = time.perf_counter() - begin
    return direct


def _least_squares(
    problem: Problem,
    start: Values,
    max_evaluations: int,
    checkpoint_every: int,
    *,
    weights: Mapping[str, float],
    checkpoint: str | Path | None,
    on_step: Progress | None,
) -> FitResult:
    from scipy.optimize import least_squares

    begin = time.perf_counter()
    t = problem.tensors(torch.float64)
    space = LogVariables(problem)

    def vector(z: torch.Tensor) -> torch.Tensor:
        return residuals(t, *space.unpack(z), weights)

    jacobian = torch.func.jacrev(vector)
    calls = {"n": 0}

    def fun(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            r = vector(torch.as_tensor(x)).numpy()
        calls["n"] += 1
        if on_step:
            on_step(calls["n"], float(r @ r))
        if checkpoint and calls["n"] % checkpoint_every == 0:
            save_values(checkpoint, "lsq", space.values(x), calls["n"])
        return r

    low, high = space.bounds()
    # the trust-region reflective method starts strictly inside the box
    x0 = np.clip(space.pack(start), low + 1e-9, high - 1e-9)
    solution = least_squares(
        fun,
        x0,
        jac=lambda x: jacobian(torch.as_tensor(x)).numpy(),
        bounds=(low, high),
        method="trf",
        xtol=1e-12,
        ftol=1e-12,
        gtol=1e-12,
        max_nfev=max_evaluations,
    )
    return finish(problem, space.values(solution.x), weights, begin, "lsq", solution.nfev, [])
