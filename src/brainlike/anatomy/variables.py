"""The variables of the float64 fits (least squares, L-BFGS-B): log c, log sigma and the log RF growth.

One vector z = (log c, log sigma, z_rf) with the box log 1e-4 <= log c, log sigma <= 0, and RF widths
from their growth: w_rf_i^2 = max over inputs j of w_rf_j^2 + exp(2 z_i) (INPUT's w_rf = exp(z)).
Every layer's RF is then wider than each of its inputs', which is exactly where the original cost is
defined (a narrower RF has no kernel: a NaN in the original), so every kernel width is positive, the
kernel soft limit keeps its gradient and a line search cannot leave that region.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from brainlike.anatomy.optimiser import Values
from brainlike.anatomy.problem import CLIP, Problem


class RFGrowth:
    """RF widths from growth variables, the max over inputs taken in topological order."""

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


class LogVariables:
    """Values (c, sigma, w_rf) <-> the vector z, and the bounds on z."""

    def __init__(self, problem: Problem):
        self.connections, self.layers = len(problem.pre), len(problem.names)
        self.growth = RFGrowth(problem)

    def pack(self, values: Values) -> np.ndarray:
        """z for `values`, c and sigma clipped into the box first."""
        c, sigma, w_rf = values
        return np.concatenate([np.log(np.clip(c, *CLIP)), np.log(np.clip(sigma, *CLIP)), self.growth.variables(w_rf)])

    def unpack(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        k = self.connections
        return torch.exp(z[:k]), torch.exp(z[k : 2 * k]), self.growth.widths(z[2 * k :])

    def values(self, x: np.ndarray) -> Values:
        """The values at a solver's point x, as numpy arrays."""
        with torch.no_grad():
            c, sigma, w_rf = (v.numpy() for v in self.unpack(torch.as_tensor(x)))
        return c, sigma, w_rf

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) for every entry of z: the box on log c and log sigma, the growth unbounded."""
        boxed, free = 2 * self.connections, self.layers
        low = np.r_[np.full(boxed, math.log(CLIP[0])), np.full(free, -np.inf)]
        high = np.r_[np.zeros(boxed), np.full(free, np.inf)]
        return low, high
