"""method="adam": CALC's own schedule (Adam, lr 1e-5, c and sigma clipped to [1e-4, 1] after each step,
float32), for reproducing the original's trajectory."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path

import torch

from brainlike.anatomy.checkpoints import resumable, save_checkpoint
from brainlike.anatomy.optimiser import FitResult, Progress, Values, check_start, finish
from brainlike.anatomy.problem import CLIP, Problem, cost_terms, full_weights, total_cost


def fit_adam(
    problem: Problem,
    start: Values,
    weights: Mapping[str, float] | None = None,
    *,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    on_step: Progress | None = None,
    steps: int = 200_100,
    lr: float = 1e-5,
    dtype: torch.dtype = torch.float32,
    log_every: int = 100,
    checkpoint_every: int = 5000,
) -> FitResult:
    """CALC's optimiser: Adam (default betas and eps) with c and sigma clipped after every step.

    `curve` holds (steps taken, total cost) before the first step and after every `log_every` steps;
    the original labels the same points one block early. Stops at a NaN cost, as the original does.
    Resuming continues an "adam" checkpoint: variables, optimiser state, steps taken and curve.
    """
    weights = full_weights(weights)
    begin = time.perf_counter()
    t = problem.tensors(dtype)
    done, curve = 0, []
    variables = [torch.tensor(v, dtype=dtype) for v in check_start(problem, start)]
    for v in variables:
        v.requires_grad_(True)
    optimizer = torch.optim.Adam(variables, lr=lr)
    saved = resumable(checkpoint, resume, "adam")
    if saved is not None:
        with torch.no_grad():
            for v, s in zip(variables, saved["variables"]):
                v.copy_(s)
        optimizer.load_state_dict(saved["optimizer"])
        done, curve = int(saved["steps"]), [tuple(p) for p in saved["curve"].tolist()]
    c, sigma, w_rf = variables

    def cost() -> torch.Tensor:
        return total_cost(cost_terms(t, c, sigma, w_rf), weights)

    if not curve:
        with torch.no_grad():
            curve.append((0, cost().item()))
    while done < steps:
        optimizer.zero_grad()
        cost().backward()
        optimizer.step()
        with torch.no_grad():
            c.clamp_(*CLIP)
            sigma.clamp_(*CLIP)
        done += 1
        if done % log_every == 0 or done == steps:
            with torch.no_grad():
                now = cost().item()
            curve.append((done, now))
            if on_step:
                on_step(done, now)
            if math.isnan(now):
                break
        if checkpoint and done % checkpoint_every == 0:
            save_checkpoint(
                {
                    "method": "adam",
                    "steps": done,
                    "variables": [v.detach() for v in variables],
                    "optimizer": optimizer.state_dict(),
                    "curve": torch.tensor(curve),
                },
                checkpoint,
            )
    values = tuple(v.detach().double().numpy() for v in variables)
    return finish(problem, values, weights, begin, "adam", done, curve)
