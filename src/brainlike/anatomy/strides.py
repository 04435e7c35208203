"""Integer strides for every projection so that cumulative strides agree along every path (Tripp 2019).

The search repeatedly takes the longest path of projections whose stride is still open and draws
strides along it, preferring 1 and then 2, within the cumulative-stride bounds that the already
committed populations impose. Several random patterns are drawn and the one closest to the
"hints" (a cumulative stride per population suggested by its neuron count and a channel count that
scales with L3 spine counts) is kept. Strides given explicitly in the System are never changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from brainlike.anatomy import tables
from brainlike.anatomy.system import System
from brainlike.errors import BrainlikeError

V1_CHANNELS = 130
_ATTEMPTS = 10_000
_RESTARTS = 200


@dataclass(frozen=True)
class StridePattern:
    strides: dict[str, int]  # projection name -> stride
    cumulatives: dict[str, int]  # population name -> cumulative stride (INPUT = 1)
    distance: float  # distance from the hints (0 when the system has none)


def _stride_weights(low: int, high: int) -> np.ndarray:
    s = np.arange(low, high + 1)
    weights = 1.0 / (0.1 + np.abs(s - 1.25)) ** 2
    return weights / weights.sum()


def hints(system: System, *, lgn_hints: str = "fixed") -> dict[str, float]:
    """Suggested cumulative stride per population: image pixels / sqrt(n / channels).

    L2/3 populations get 130 channels in V1, scaled by Elston (2007) spine counts elsewhere.
    lgn_hints="original" reproduces CALC's StridePattern, whose LGN names never match (no LGN hints).
    """
    if lgn_hints not in ("fixed", "original"):
        raise BrainlikeError(f"lgn_hints must be 'fixed' or 'original', not {lgn_hints!r}")
    spines = tables.read_json("elston2007_spine_counts.json")
    counts = dict(spines["spine_count"])
    for elston, areas in {**spines["elston_to_FV91"], **spines["elston_to_M132_yerkes"]}.items():
        for area in areas:
            counts.setdefault(area, spines["spine_count"][elston])
    counts.setdefault("TEO", spines["spine_count"]["TEO"])
    lgn_channels = tables.read_json("lgn.json")["stride_hint_channels"] if lgn_hints == "fixed" else {}
    result = {}
    for p in system.populations[1:]:
        if p.name in lgn_channels:
            channels = lgn_channels[p.name]
        elif "2/3" in p.layer and p.area in counts:
            channels = round(V1_CHANNELS * counts[p.area] / counts["V1"])
        else:
            continue
        result[p.name] = system.image.pixels / math.sqrt(p.n / channels)
    return result


class _Search:
    def __init__(self, system: System, max_cumulative: int, rng: np.random.Generator):
        self.system, self.max_cumulative, self.rng = system, max_cumulative, rng
        self.names = [p.name for p in system.populations]
        self.fixed = system.fixed_strides()
        self.order = system.topological_order()
        self.inbound = {n: system.inbound(n) for n in self.order}
        self.outbound = {n: system.outbound(n) for n in self.order}
        self.reset()

    def reset(self) -> None:
        self.strides: dict[str, int] = dict(self.fixed)
        self.cum: dict[str, int] = {self.system.image.name: 1}
        self._propagate_fixed()
        self._bounds()

    def _propagate_fixed(self) -> bool:
        changed = True
        while changed:
            changed = False
            for p in self.system.projections:
                if p.name not in self.fixed:
                    continue
                s = self.fixed[p.name]
                if p.pre in self.cum and p.post not in self.cum:
                    self.cum[p.post] = self.cum[p.pre] * s
                    changed = True
                elif p.post in self.cum and p.pre not in self.cum and self.cum[p.post] % s == 0:
                    self.cum[p.pre] = self.cum[p.post] // s
                    changed = True
                elif p.pre in self.cum and p.post in self.cum and self.cum[p.pre] * s != self.cum[p.post]:
                    return False
        return True

    def _bounds(self) -> None:
        """Cumulative bounds: at least any ancestor's, at most any descendant's committed value."""
        order = self.order
        self.low, self.high = {}, {}
        for n in order:
            self.low[n] = self.cum.get(n, max([self.low[p.pre] for p in self.inbound[n]], default=1))
        for n in reversed(order):
            self.high[n] = self.cum.get(
                n, min([self.high[p.post] for p in self.outbound[n]], default=self.max_cumulative)
            )

    def _longest_open_path(self) -> list:
        best: dict[str, list] = {}
        for name in self.order:
            chains = [best[p.pre] + [p] for p in self.inbound[name] if p.name not in self.strides]
            best[name] = max(chains, key=len, default=[])
        return max(best.values(), key=len)

    def _walk(self, path: list, max_stride: int) -> dict[str, int] | None:
        start, end = path[0].pre, path[-1].post
        cum = self.cum.get(start, self.low[start])
        strides = {}
        for p in path:
            if p.post in self.cum:
                ratio = self.cum[p.post] / cum
                if ratio < 1 or abs(ratio - round(ratio)) > 1e-3:
                    return None
                s = round(ratio)
            else:
                low = max(1, self.low[p.post] // cum)
                high = min(max_stride, self.high[p.post] // cum)
                if high < low:
                    return None
                s = int(self.rng.choice(np.arange(low, high + 1), p=_stride_weights(low, high)))
            cum *= s
            if not self.low[p.post] <= cum <= self.high[p.post]:
                return None
            strides[p.name] = s
        if end in self.cum and cum != self.cum[end]:
            return None
        return strides

    def fill(self) -> None:
        for _ in range(_RESTARTS):
            if self._fill_once():
                return
            self.reset()
        raise BrainlikeError(
            "no consistent stride pattern found; raise max_cumulative_stride or check the explicit strides"
        )

    def _fill_once(self) -> bool:
        if not self._propagate_fixed():
            raise BrainlikeError("the explicit strides contradict each other along some path")
        while True:
            path = self._longest_open_path()
            if not path:
                return True
            start, end = path[0].pre, path[-1].post
            low = self.cum.get(start, self.low[start])
            high = self.cum.get(end, self.high[end])
            max_stride = int(2 * math.floor((high / low) ** (1 / len(path))))
            for _ in range(_ATTEMPTS):
                strides = self._walk(path, max_stride)
                if strides is not None:
                    break
            else:
                return False
            cum = self.cum.get(start, low)
            self.cum.setdefault(start, cum)
            for p in path:
                cum *= strides[p.name]
                self.cum[p.post] = cum
            self.strides.update(strides)
            if not self._propagate_fixed():
                return False
            self._bounds()


def stride_pattern(
    system: System, *, max_cumulative_stride: int = 32, best_of: int = 10, seed: int = 0, lgn_hints: str = "fixed"
) -> StridePattern:
    """The best of `best_of` random stride patterns (closest to the hints); explicit strides are kept."""
    if max_cumulative_stride < 1 or best_of < 1:
        raise BrainlikeError("max_cumulative_stride and best_of must be at least 1")
    rng = np.random.default_rng(seed)
    targets = hints(system, lgn_hints=lgn_hints)
    best = None
    for _ in range(best_of if len(system.fixed_strides()) < len(system.projections) else 1):
        search = _Search(system, max_cumulative_stride, rng)
        search.fill()
        logs = [math.log(search.cum[n] / h) ** 2 for n, h in targets.items()]
        distance = math.sqrt(sum(logs) / len(logs)) if logs else 0.0
        if best is None or distance < best.distance:
            best = StridePattern(dict(search.strides), dict(search.cum), distance)
    check_pattern(system, best)
    return best


def check_pattern(system: System, pattern: StridePattern) -> None:
    """Every projection's stride must equal cumulative(post) / cumulative(pre)."""
    for p in system.projections:
        s = pattern.strides.get(p.name)
        if s is None or s < 1 or pattern.cumulatives[p.pre] * s != pattern.cumulatives[p.post]:
            raise BrainlikeError(f"stride of {p.name} is inconsistent with the cumulative strides")
