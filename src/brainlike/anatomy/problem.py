"""What a CALC fit minimises (Tripp 2019): the network a System implies, and CALC's cost, term by term.

Given the strides, every layer's width and channel count are fixed; the free variables are, per
connection, the fraction c of the pre layer's channels it reads and the density sigma of non-zero
kernel elements, and per layer the RF width w_rf (degrees). Kernel widths follow from the RF growth,
w = sqrt(12) sqrt(sigma_post^2 - sigma_pre^2) in pre-layer pixels. The cost is written in PyTorch and
differentiated by autograd; `residuals` writes the same cost as a sum of squares.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch

from brainlike.anatomy.strides import StridePattern, check_pattern
from brainlike.anatomy.system import System
from brainlike.errors import BrainlikeError

CLIP = (1e-4, 1.0)
DEFAULT_WEIGHTS = {"f": 1.0, "b": 1.0, "e": 1.0, "w_rf": 1.0, "dead_end": 1.0, "kernel": 5.0, "rf": 5.0}
MAX_RF_DEGREES = 90.0
TERMS = tuple(DEFAULT_WEIGHTS)


def full_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """Term weights: the given ones over `DEFAULT_WEIGHTS`."""
    return {**DEFAULT_WEIGHTS, **(weights or {})}


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

    @property
    def pixel(self) -> np.ndarray:
        """Each layer's pixel width in degrees."""
        return self.pixel_degrees * self.image_res / self.width

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
            "pixel": t(self.pixel),
        }

    def initial_rf(self) -> np.ndarray:
        """RF widths to start from: the target where there is one, else one 1-pixel box beyond the inputs."""
        w_rf = np.full(len(self.names), np.nan)
        w_rf[self.w_index] = self.w_target
        pixel = self.pixel
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


def _matches(t: dict[str, torch.Tensor], q: dict[str, torch.Tensor], w_rf: torch.Tensor) -> tuple:
    """(term, actual, target) of each match term."""
    ia = t["inter_area"]
    return (
        ("f", q["flne"][ia], t["f_target"]),
        ("b", q["inputs"][~ia], t["b_target"]),
        ("e", q["in_degree"][t["e_index"]], t["e_target"]),
        ("w_rf", w_rf[t["w_index"]], t["w_target"]),
    )


def _soft_limits(q: dict[str, torch.Tensor], w_rf: torch.Tensor) -> dict[str, torch.Tensor]:
    """The hinges h >= 0 of the soft limits: kernels of at least a pixel, RFs of at most MAX_RF_DEGREES."""
    return {"kernel": torch.relu(1 - torch.sqrt(q["w2"])), "rf": torch.relu(w_rf - MAX_RF_DEGREES)}


def cost_terms(
    t: dict[str, torch.Tensor], c: torch.Tensor, sigma: torch.Tensor, w_rf: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Each term of CALC's cost, unweighted: match terms are means of ln(actual/target)^2."""
    q = network_quantities(t, c, sigma, w_rf)
    terms = {term: _mean(torch.log(actual / target) ** 2) for term, actual, target in _matches(t, q, w_rf)}
    terms["dead_end"] = _mean((t["dead_end"] @ c - t["dead_end_target"]) ** 2)
    terms.update({term: hinges.sum() for term, hinges in _soft_limits(q, w_rf).items()})
    return terms


def total_cost(terms: dict[str, torch.Tensor], weights: Mapping[str, float]) -> torch.Tensor:
    return sum(weights[k] * v for k, v in terms.items())


def residuals(
    t: dict[str, torch.Tensor], c: torch.Tensor, sigma: torch.Tensor, w_rf: torch.Tensor, weights: Mapping[str, float]
) -> torch.Tensor:
    """The cost as one residual vector r with sum(r^2) = the weighted total of `cost_terms`."""
    q = network_quantities(t, c, sigma, w_rf)
    parts = [
        torch.log(actual / target) * math.sqrt(weights[term] / len(target))
        for term, actual, target in _matches(t, q, w_rf)
        if len(target)
    ]
    items = t["dead_end_target"]
    if len(items):
        parts.append((t["dead_end"] @ c - items) * math.sqrt(weights["dead_end"] / len(items)))
    # a sum of hinges h >= 0 is the sum of squares of the residuals sqrt(weight * h)
    parts += [_hinge_residual(weights[term] * hinges) for term, hinges in _soft_limits(q, w_rf).items()]
    return torch.cat(parts)


def _hinge_residual(h: torch.Tensor) -> torch.Tensor:
    """sqrt(h) for h >= 0, with gradient 0 (not NaN) where h is 0."""
    positive = h > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, h, 1.0)), 0.0)
