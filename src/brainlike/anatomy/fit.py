"""Fit a CNN to a System: channel fractions c, element densities sigma and RF widths (Tripp 2019).

Given the strides, every layer's width and channel count are fixed; the free variables are, per
connection, the fraction c of the pre layer's channels it reads and the density sigma of non-zero
kernel elements, and per layer the RF width w_rf (degrees). Kernel widths follow from the RF growth,
w = sqrt(12) sqrt(sigma_post^2 - sigma_pre^2) in pre-layer pixels. The cost (CALC's, term by term)
is written in PyTorch and differentiated by autograd.

Three optimisers, all in float64 on log c, log sigma and the log RF growth, with the box
1e-4 <= c, sigma <= 1:
- `method="lsq"` (default): the cost written as a sum of squares, minimised by trust-region least
  squares with the exact Jacobian (tens of evaluations instead of CALC's 200,100 Adam steps), along
  two routes (see `fit_least_squares`).
- `method="lbfgs"`: L-BFGS-B on the cost itself.
- `method="adam"`: the original schedule (Adam, lr 1e-5, clip c and sigma to [1e-4, 1] after each
  step, float32), for reproducing the original's trajectory.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from brainlike.anatomy.strides import StridePattern, check_pattern, stride_pattern
from brainlike.anatomy.system import System
from brainlike.errors import BrainlikeError

CLIP = (1e-4, 1.0)
DEFAULT_WEIGHTS = {"f": 1.0, "b": 1.0, "e": 1.0, "w_rf": 1.0, "dead_end": 1.0, "kernel": 5.0, "rf": 5.0}
MAX_RF_DEGREES = 90.0
TERMS = tuple(DEFAULT_WEIGHTS)


class Problem:
    """The constants of one fit: a System with its stride pattern, as index tensors (by name, not order)."""

    def __init__(self, system: System, pattern: StridePattern, *, dead_end_missing: str = "constant"):
        if dead_end_missing not in ("constant", "skip"):
            raise BrainlikeError(f"dead_end_missing must be 'constant' or 'skip', not {dead_end_missing!r}")
        check_pattern(system, pattern)
        self.system, self.pattern = system, pattern
        self.names = [p.name for p in system.populations]
        index = {n: i for i, n in enumerate(self.names)}
        largest = max(pattern.cumulatives.values())
        self.image_res = round(system.image.pixels / largest) * largest
        if self.image_res < largest:
            raise BrainlikeError(
                f"the image ({system.image.pixels} px) is smaller than the largest cumulative stride ({largest})"
            )
        self.width = np.array([self.image_res / pattern.cumulatives[n] for n in self.names])
        self.m = np.array(
            [system.image.channels]
            + [max(1, round(p.n / w**2)) for p, w in zip(system.populations[1:], self.width[1:])],
            dtype=float,
        )
        self.pixel_degrees = system.image.pixel_degrees
        projections = system.projections
        self.connection_names = [p.name for p in projections]
        self.pre = np.array([index[p.pre] for p in projections])
        self.post = np.array([index[p.post] for p in projections])
        self.stride = np.array([pattern.strides[p.name] for p in projections], dtype=float)
        self.inter_area = np.array([p.inter_area for p in projections])
        self.f_target = np.array([p.f for p in projections if p.inter_area], dtype=float)
        self.b_target = np.array([p.b for p in projections if not p.inter_area], dtype=float)
        self.e_index = np.array([i for i, p in enumerate(system.populations) if i > 0 and p.e is not None], dtype=int)
        self.e_target = np.array([system.populations[i].e for i in self.e_index], dtype=float)
        self.w_index = np.array([i for i, p in enumerate(system.populations) if p.w is not None], dtype=int)
        self.w_target = np.array([system.populations[i].w for i in self.w_index], dtype=float)
        self.dead_end, self.dead_end_target = self._dead_end_items(dead_end_missing)

    def _dead_end_items(self, missing: str) -> tuple[np.ndarray, np.ndarray]:
        """CALC's dead-end rules: each item asks that a layer's outgoing c values sum to a target.

        Layers without any output (the network's outputs) give no item. With missing="constant" a
        "(sum of inter-laminar c - 1)^2 always" rule adds its constant 1 even when the layer has no
        inter-laminar output, as the original does.
        """
        rows, targets = [], []

        def item(mask: np.ndarray, target: float) -> None:
            if missing == "skip" and not mask.any():
                return
            rows.append(mask.astype(float))
            targets.append(target)

        for i, population in enumerate(self.system.populations):
            out = self.pre == i
            if not out.any():
                continue
            area_out, layer_out = out & self.inter_area, out & ~self.inter_area
            layer = population.layer
            if "2/3" in layer:
                if area_out.any():
                    item(area_out, 0.5)
                item(layer_out, 1.0)
            elif "4" in layer:
                item(layer_out, 1.0)
            elif "5" in layer:
                if area_out.any():
                    item(area_out, 1.0)
                item(layer_out, 1.0)
            elif area_out.any():
                item(area_out, 1.0)
        width = len(self.pre)
        return np.array(rows).reshape(-1, width), np.array(targets)

    def tensors(self, dtype: torch.dtype) -> dict[str, torch.Tensor]:
        t = lambda a: torch.as_tensor(a, dtype=dtype)  # noqa: E731
        i = lambda a: torch.as_tensor(a, dtype=torch.long)  # noqa: E731
        return {
            "m": t(self.m),
            "width": t(self.width),
            "neurons": t(self.m * self.width**2),
            "pre": i(self.pre),
            "post": i(self.post),
            "stride": t(self.stride),
            "inter_area": torch.as_tensor(self.inter_area),
            "f_target": t(self.f_target),
            "b_target": t(self.b_target),
            "e_index": i(self.e_index),
            "e_target": t(self.e_target),
            "w_index": i(self.w_index),
            "w_target": t(self.w_target),
            "dead_end": t(self.dead_end),
            "dead_end_target": t(self.dead_end_target),
            "pixel": t(self.pixel_degrees * self.image_res / self.width),
        }

    def initial_rf(self) -> np.ndarray:
        """RF widths to start from: the target where there is one, else one 1-pixel box beyond the inputs."""
        w_rf = np.full(len(self.names), np.nan)
        w_rf[self.w_index] = self.w_target
        pixel = self.pixel_degrees * self.image_res / self.width
        for name in self.system.topological_order():
            i = self.names.index(name)
            if not np.isnan(w_rf[i]):
                continue
            grown = []
            for k in np.flatnonzero(self.post == i):
                j = self.pre[k]
                s = w_rf[j] / pixel[j]
                grown.append(w_rf[j] * math.sqrt(s**2 + 1 / 12) / s)
            w_rf[i] = max(grown)
        return w_rf

    def initial_values(self, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CALC's start: c ~ U(0.1, 0.3), sigma ~ U(0.1, 0.2) (seeded) and `initial_rf()`."""
        rng = np.random.default_rng(seed)
        k = len(self.pre)
        return rng.uniform(0.1, 0.3, k), rng.uniform(0.1, 0.2, k), self.initial_rf()


def _mean(x: torch.Tensor) -> torch.Tensor:
    return x.mean() if x.numel() else x.new_zeros(())


def kernel_widths_squared(t: dict[str, torch.Tensor], w_rf: torch.Tensor) -> torch.Tensor:
    """Squared kernel widths in pre-layer pixels; a layer narrower than its input (NaN in the original)
    gets a vanishing kernel instead, whose huge in-degree error steers the fit away."""
    pixel = t["pixel"][t["pre"]]
    return (12 * ((w_rf[t["post"]] / pixel) ** 2 - (w_rf[t["pre"]] / pixel) ** 2)).clamp(min=1e-12)


def network_quantities(
    t: dict[str, torch.Tensor], c: torch.Tensor, sigma: torch.Tensor, w_rf: torch.Tensor
) -> dict[str, torch.Tensor]:
    """FLNe, in-degrees per connection and per layer, and kernel widths of the network."""
    pre, post = t["pre"], t["post"]
    w2 = kernel_widths_squared(t, w_rf)
    coverage = w2 / t["stride"] ** 2
    alpha, beta = coverage.clamp(max=1.0), coverage.clamp(min=1.0)
    reached = 1 - torch.pow(1 - sigma, beta * t["m"][post])
    nu = t["neurons"][pre] * c * reached * alpha
    flne = nu / torch.zeros_like(t["m"]).index_add(0, post, nu)[post]
    inputs = w2 * c * sigma * t["m"][pre]
    in_degree = torch.zeros_like(t["m"]).index_add(0, post, inputs)
    return {"w2": w2, "flne": flne, "inputs": inputs, "in_degree": in_degree}


def cost_terms(
    t: dict[str, torch.Tensor], c: torch.Tensor, sigma: torch.Tensor, w_rf: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Each term of CALC's cost, unweighted: match terms are means of ln(actual/target)^2."""
    q = network_quantities(t, c, sigma, w_rf)
    ia = t["inter_area"]
    err = lambda actual, target: _mean(torch.log(actual / target) ** 2)  # noqa: E731
    return {
        "f": err(q["flne"][ia], t["f_target"]),
        "b": err(q["inputs"][~ia], t["b_target"]),
        "e": err(q["in_degree"][t["e_index"]], t["e_target"]),
        "w_rf": err(w_rf[t["w_index"]], t["w_target"]),
        "dead_end": _mean((t["dead_end"] @ c - t["dead_end_target"]) ** 2),
        "kernel": torch.relu(1 - torch.sqrt(q["w2"])).sum(),
        "rf": torch.relu(w_rf - MAX_RF_DEGREES).sum(),
    }


def total_cost(terms: dict[str, torch.Tensor], weights: dict[str, float]) -> torch.Tensor:
    return sum(weights[k] * v for k, v in terms.items())


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

    def kernel_widths(self) -> np.ndarray:
        t = self.problem.tensors(torch.float64)
        return torch.sqrt(kernel_widths_squared(t, torch.as_tensor(self.w_rf))).numpy()

    def comparison(self) -> dict[str, list[dict[str, Any]]]:
        """Target vs achieved: n, e and w_rf per population; f or b per projection."""
        p = self.problem
        t = p.tensors(torch.float64)
        with torch.no_grad():
            q = network_quantities(t, torch.as_tensor(self.c), torch.as_tensor(self.sigma), torch.as_tensor(self.w_rf))
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


def _check_start(problem: Problem, c, sigma, w_rf) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c, sigma, w_rf = (np.asarray(v, dtype=float) for v in (c, sigma, w_rf))
    k, n = len(problem.pre), len(problem.names)
    if c.shape != (k,) or sigma.shape != (k,) or w_rf.shape != (n,):
        raise BrainlikeError(f"start values need {k} c, {k} sigma and {n} w_rf values")
    return c, sigma, w_rf


def _result(problem, c, sigma, w_rf, weights, start, method, iterations, curve) -> FitResult:
    t = problem.tensors(torch.float64)
    with torch.no_grad():
        terms = cost_terms(t, *(torch.as_tensor(v, dtype=torch.float64) for v in (c, sigma, w_rf)))
    values = {k: v.item() for k, v in terms.items()}
    total = sum(weights[k] * v for k, v in values.items())
    return FitResult(problem, c, sigma, w_rf, values, total, time.perf_counter() - start, method, iterations, curve)


class _RFGrowth:
    """RF widths from growth variables: w_rf_i^2 = max over inputs j of w_rf_j^2 + exp(2 z_i).

    Every layer's RF is then wider than each of its inputs', which is exactly where the original
    cost is defined (a narrower RF has no kernel: a NaN in the original), so every kernel width is
    positive and the kernel soft limit keeps its gradient. The max is taken in topological order.
    """

    def __init__(self, problem: Problem):
        index = {name: i for i, name in enumerate(problem.names)}
        self.order = [index[name] for name in problem.system.topological_order()]
        self.inputs = [sorted(set(problem.pre[problem.post == i].tolist())) for i in range(len(problem.names))]

    def widths(self, z: torch.Tensor) -> torch.Tensor:
        growth = torch.exp(2 * z)
        squared: list[torch.Tensor | None] = [None] * len(self.inputs)
        for i in self.order:
            inputs = [squared[j] for j in self.inputs[i]]
            below = inputs[0] if len(inputs) == 1 else torch.stack(inputs).amax(0) if inputs else 0.0
            squared[i] = below + growth[i]
        return torch.sqrt(torch.stack(squared))

    def variables(self, w_rf: np.ndarray) -> np.ndarray:
        below = np.array([max((w_rf[j] ** 2 for j in inputs), default=0.0) for inputs in self.inputs])
        # a start no wider than an input cannot be represented; start just above it instead
        return 0.5 * np.log(np.maximum(w_rf**2 - below, 1e-4 * w_rf**2))


def fit_lbfgs(
    problem: Problem,
    *,
    start=None,
    weights: dict[str, float] | None = None,
    max_iterations: int = 20_000,
    tolerance: float = 1e-13,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 200,
    progress: Callable[[int, float], None] | None = None,
) -> FitResult:
    """L-BFGS-B in float64 on (log c, log sigma, log w_rf), c and sigma boxed to [1e-4, 1].

    RF widths are optimised through their growth (`_RFGrowth`): w_rf_i^2 = max over inputs j of
    w_rf_j^2 + g_i^2 (log g_i is the variable; INPUT's log w_rf directly). This covers exactly the
    region where the original cost is defined, since a layer whose RF is narrower than an input's has
    no kernel (a NaN in the original), and keeps the line search out of it.
    """
    from scipy.optimize import minimize

    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    _load_solvers()
    begin = time.perf_counter()
    c, sigma, w_rf = _check_start(problem, *(start or problem.initial_values()))
    k = len(c)
    t = problem.tensors(torch.float64)
    state = {"iterations": 0, "curve": []}

    growth = _RFGrowth(problem)

    def evaluate(x: np.ndarray) -> tuple[float, np.ndarray]:
        z = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        values = torch.exp(z[: 2 * k])
        cost = total_cost(cost_terms(t, values[:k], values[k:], growth.widths(z[2 * k :])), weights)
        cost.backward()
        state["last"] = (x.copy(), cost.item())
        return cost.item(), z.grad.numpy()

    def after_iteration(x: np.ndarray) -> None:
        state["iterations"] += 1
        seen, value = state["last"]
        if not np.array_equal(seen, x):
            value = evaluate(x)[0]
        state["curve"].append((state["iterations"], value))
        if progress:
            progress(state["iterations"], value)
        if checkpoint and state["iterations"] % checkpoint_every == 0:
            with torch.no_grad():
                w = growth.widths(torch.as_tensor(x[2 * k :])).numpy()
            save_checkpoint(
                checkpoint,
                {
                    "method": "lbfgs",
                    "c": np.exp(x[:k]),
                    "sigma": np.exp(x[k : 2 * k]),
                    "w_rf": w,
                    "iterations": state["iterations"],
                },
            )

    x0 = np.concatenate([np.log(np.clip(c, *CLIP)), np.log(np.clip(sigma, *CLIP)), growth.variables(w_rf)])
    bounds = [(math.log(CLIP[0]), 0.0)] * (2 * k) + [(None, None)] * len(w_rf)
    result = minimize(
        evaluate,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        callback=after_iteration,
        options={
            "maxiter": max_iterations,
            "maxfun": 4 * max_iterations,
            "ftol": tolerance,
            "gtol": 1e-12,
            "maxcor": 30,
        },
    )
    x = np.exp(result.x[: 2 * k])
    w_rf = growth.widths(torch.as_tensor(result.x[2 * k :])).numpy()
    if checkpoint:
        save_checkpoint(
            checkpoint, {"method": "lbfgs", "c": x[:k], "sigma": x[k:], "w_rf": w_rf, "iterations": state["iterations"]}
        )
    return _result(problem, x[:k], x[k:], w_rf, weights, begin, "lbfgs", state["iterations"], state["curve"])


def residuals(
    t: dict[str, torch.Tensor], c: torch.Tensor, sigma: torch.Tensor, w_rf: torch.Tensor, weights: dict[str, float]
) -> torch.Tensor:
    """The cost as one residual vector r with sum(r^2) = the weighted total of `cost_terms`."""
    q = network_quantities(t, c, sigma, w_rf)
    ia = t["inter_area"]
    parts = []
    for term, actual, target in (
        ("f", q["flne"][ia], t["f_target"]),
        ("b", q["inputs"][~ia], t["b_target"]),
        ("e", q["in_degree"][t["e_index"]], t["e_target"]),
        ("w_rf", w_rf[t["w_index"]], t["w_target"]),
    ):
        if len(target):
            parts.append(torch.log(actual / target) * math.sqrt(weights[term] / len(target)))
    items = t["dead_end_target"]
    if len(items):
        parts.append((t["dead_end"] @ c - items) * math.sqrt(weights["dead_end"] / len(items)))
    # the soft limits are sums of hinges h >= 0: their residuals are sqrt(weight * h)
    parts.append(_hinge_residual(weights["kernel"] * torch.relu(1 - torch.sqrt(q["w2"]))))
    parts.append(_hinge_residual(weights["rf"] * torch.relu(w_rf - MAX_RF_DEGREES)))
    return torch.cat(parts)


def _hinge_residual(h: torch.Tensor) -> torch.Tensor:
    """sqrt(h) for h >= 0, with gradient 0 (not NaN) where h is 0."""
    positive = h > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, h, 1.0)), 0.0)


def fit_least_squares(
    problem: Problem,
    *,
    start=None,
    weights: dict[str, float] | None = None,
    max_evaluations: int = 2000,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 20,
    progress: Callable[[int, float], None] | None = None,
) -> FitResult:
    """Trust-region reflective least squares on the whole cost, along two routes; the better result.

    Every match term is a mean of squared log ratios, the dead-end term a mean of squares and the
    soft limits sums of hinges h (residual sqrt(weight h)), so the cost is a sum of squares. A
    Gauss-Newton-type method with the exact Jacobian (autograd, reverse mode) converges in tens of
    steps and handles the box 1e-4 <= c, sigma <= 1 exactly; RF widths are parametrised by their
    growth as in `fit_lbfgs`. Where kernel limits bind, the cost has several basins, so a second
    route (L-BFGS-B from the same start, then least squares from where it stops) is taken too.
    """
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    _load_solvers()
    begin = time.perf_counter()
    start = _check_start(problem, *(start or problem.initial_values()))
    options = dict(weights=weights, checkpoint=checkpoint, progress=progress)
    direct = _least_squares(problem, start, max_evaluations, checkpoint_every, **options)
    evaluations = direct.iterations
    if direct.total > 1e-12:  # an exact fit needs no second route
        descent = fit_lbfgs(problem, start=start, **options)
        refined = _least_squares(
            problem, (descent.c, descent.sigma, descent.w_rf), max_evaluations, checkpoint_every, **options
        )
        evaluations += descent.iterations + refined.iterations
        direct = min((direct, descent, refined), key=lambda r: r.total)
    direct.iterations, direct.method = evaluations, "lsq"
    direct.seconds = time.perf_counter() - begin
    return direct


def _load_solvers() -> None:
    """Import scipy's solvers and torch.func's machinery (about 2 s on first use, loaded lazily so that
    `import brainlike` stays light) before a fit starts its clock: `seconds` times the fit itself."""
    import scipy.optimize  # noqa: F401

    torch.func.jacrev(torch.sin)(torch.zeros(1, dtype=torch.float64))


def _least_squares(
    problem: Problem,
    start,
    max_evaluations: int,
    checkpoint_every: int,
    *,
    weights: dict[str, float],
    checkpoint: str | Path | None,
    progress: Callable[[int, float], None] | None,
) -> FitResult:
    from scipy.optimize import least_squares

    begin = time.perf_counter()
    c, sigma, w_rf = start
    k = len(c)
    t = problem.tensors(torch.float64)
    growth = _RFGrowth(problem)

    def unpack(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return torch.exp(z[:k]), torch.exp(z[k : 2 * k]), growth.widths(z[2 * k :])

    def vector(z: torch.Tensor) -> torch.Tensor:
        return residuals(t, *unpack(z), weights)

    jacobian = torch.func.jacrev(vector)
    calls = {"n": 0}

    def fun(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            r = vector(torch.as_tensor(x)).numpy()
        calls["n"] += 1
        if progress:
            progress(calls["n"], float(r @ r))
        if checkpoint and calls["n"] % checkpoint_every == 0:
            values = [v.numpy() for v in unpack(torch.as_tensor(x))]
            save_checkpoint(
                checkpoint,
                {"method": "lbfgs", "c": values[0], "sigma": values[1], "w_rf": values[2], "iterations": calls["n"]},
            )
        return r

    low = np.r_[np.full(2 * k, math.log(CLIP[0])), np.full(len(w_rf), -np.inf)]
    high = np.r_[np.zeros(2 * k), np.full(len(w_rf), np.inf)]
    x0 = np.concatenate([np.log(np.clip(c, *CLIP)), np.log(np.clip(sigma, *CLIP)), growth.variables(w_rf)])
    x0 = np.clip(x0, low + 1e-9, high - 1e-9)
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
    with torch.no_grad():
        c, sigma, w_rf = (v.numpy() for v in unpack(torch.as_tensor(solution.x)))
    return _result(problem, c, sigma, w_rf, weights, begin, "lsq", solution.nfev, [])


def fit_adam(
    problem: Problem,
    *,
    start=None,
    steps: int = 200_100,
    lr: float = 1e-5,
    weights: dict[str, float] | None = None,
    dtype: torch.dtype = torch.float32,
    log_every: int = 100,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 5000,
    resume: bool = False,
    progress: Callable[[int, float], None] | None = None,
) -> FitResult:
    """CALC's optimiser: Adam (default betas and eps) with c and sigma clipped after every step.

    `curve` holds (steps taken, total cost) before the first step and after every `log_every` steps;
    the original labels the same points one block early. Stops at a NaN cost, as the original does.
    """
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    begin = time.perf_counter()
    t = problem.tensors(dtype)
    done, curve = 0, []
    variables = [torch.tensor(v, dtype=dtype) for v in _check_start(problem, *(start or problem.initial_values()))]
    for v in variables:
        v.requires_grad_(True)
    optimizer = torch.optim.Adam(variables, lr=lr)
    if resume and checkpoint and Path(checkpoint).is_file():
        saved = load_checkpoint(checkpoint)
        if saved.get("method") != "adam":
            raise BrainlikeError(f"{checkpoint} is not an Adam checkpoint")
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
        value = cost()
        value.backward()
        optimizer.step()
        with torch.no_grad():
            c.clamp_(*CLIP)
            sigma.clamp_(*CLIP)
        done += 1
        if done % log_every == 0 or done == steps:
            with torch.no_grad():
                now = cost().item()
            curve.append((done, now))
            if progress:
                progress(done, now)
            if math.isnan(now):
                break
        if checkpoint and done % checkpoint_every == 0:
            save_checkpoint(
                checkpoint,
                {
                    "method": "adam",
                    "steps": done,
                    "variables": [v.detach() for v in variables],
                    "optimizer": optimizer.state_dict(),
                    "curve": torch.tensor(curve),
                },
            )
    values = [v.detach().double().numpy() for v in variables]
    return _result(problem, *values, weights, begin, "adam", done, curve)


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    path = Path(path)
    partial = path.with_name(path.name + ".part")
    torch.save({k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v for k, v in state.items()}, partial)
    partial.replace(path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise BrainlikeError(f"cannot read checkpoint {path}: {error}") from None


def fit_system(
    system: System,
    *,
    pattern: StridePattern | None = None,
    method: str = "lsq",
    max_cumulative_stride: int = 32,
    best_of: int = 10,
    seed: int = 0,
    weights: dict[str, float] | None = None,
    dead_end_missing: str = "constant",
    checkpoint: str | Path | None = None,
    resume: bool = False,
    progress: Callable[[int, float], None] | None = None,
    **options: Any,
) -> FitResult:
    """Strides (explicit ones kept, the rest searched), then the continuous fit."""
    pattern = pattern or stride_pattern(system, max_cumulative_stride=max_cumulative_stride, best_of=best_of, seed=seed)
    problem = Problem(system, pattern, dead_end_missing=dead_end_missing)
    start = options.pop("start", None) or problem.initial_values(seed)
    if method in ("lsq", "lbfgs"):
        if resume and checkpoint and Path(checkpoint).is_file():
            saved = load_checkpoint(checkpoint)
            if saved.get("method") != "lbfgs":
                raise BrainlikeError(f"{checkpoint} is not an L-BFGS checkpoint")
            start = tuple(saved[key].numpy() for key in ("c", "sigma", "w_rf"))
        fitter = fit_least_squares if method == "lsq" else fit_lbfgs
        return fitter(problem, start=start, weights=weights, checkpoint=checkpoint, progress=progress, **options)
    if method == "adam":
        return fit_adam(
            problem, start=start, weights=weights, checkpoint=checkpoint, resume=resume, progress=progress, **options
        )
    raise BrainlikeError(f"method must be 'lsq', 'lbfgs' or 'adam', not {method!r}")


def load_system(source: str) -> System:
    """A System from a JSON file, or one of the named builders (ventral, dorsal, macaque)."""
    from brainlike.anatomy import system as systems

    builders = {"ventral": systems.ventral_system, "dorsal": systems.dorsal_system, "macaque": systems.macaque_system}
    if source in builders:
        return builders[source]()
    if source in systems.tables.reference_systems():
        return systems.reference_system(source)
    return System.load(source)


def fit_to_folder(source: str, folder: str | Path, *, progress_bar: bool = False, **options: Any) -> Path:
    """Fit a system and write `network.json` (the spec), `fit.json` (cost, terms, seconds) and a report."""
    from brainlike.anatomy.spec import spec_from_fit
    from brainlike.report import Report, markdown_table

    system = load_system(source)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bar = None
    if progress_bar:
        from tqdm import tqdm

        bar = tqdm(desc="calc fit", unit="eval", leave=False)

    def progress(step: int, value: float) -> None:
        if bar is not None:  # steps count per optimiser run; the bar counts them all
            bar.update(1)
            bar.set_postfix(cost=f"{value:.6g}")

    result = fit_system(system, checkpoint=folder / "checkpoint.pt", progress=progress, **options)
    if bar is not None:
        bar.close()
    spec = spec_from_fit(result)
    spec.save(folder / "network.json")
    system.save(folder / "system.json")
    comparison = result.comparison()
    summary = {
        "total": result.total,
        "terms": result.terms,
        "seconds": result.seconds,
        "method": result.method,
        "evaluations": result.iterations,
        "strides": result.problem.pattern.strides,
        "comparison": comparison,
    }
    (folder / "fit.json").write_text(json.dumps(summary, indent=1))
    report = Report(folder, "CALC fit")
    report.data.update(summary)
    report.add_section(
        "Cost",
        markdown_table(
            ["term", "value"],
            [[k, v] for k, v in result.terms.items()] + [["total", result.total], ["seconds", result.seconds]],
        ),
    )
    report.add_section(
        "Populations: target vs achieved",
        markdown_table(
            ["population", "n target", "n", "e target", "e", "w target", "w_rf"],
            [
                [r["name"], r["n_target"], r["n"], r["e_target"] or "", r["e"] or "", r["w_target"] or "", r["w_rf"]]
                for r in comparison["populations"]
            ],
        ),
    )
    report.add_section(
        "Projections: target vs achieved",
        markdown_table(
            ["projection", "kind", "target", "achieved"],
            [[r["name"], r["kind"], r["target"], r["achieved"]] for r in comparison["projections"]],
        ),
    )
    report.write()
    return folder
