"""Fast paths taken only where they are faster on the running machine.

A fast path (Winograd, per-channel grouping, the frequency domain) gives the same sums as the direct
convolution up to float32 rounding, so the choice is one of speed alone, and speed depends on the CPU:
Winograd F(2x2, 3x3) beat oneDNN's convolution on a 2-core AVX2 machine and lost to it (0.53-0.58x) on
an AVX-512 one. So each path is timed against its alternatives on the inputs at hand, once per process
for each shape class and thread count, and the fastest kept; a fast path must beat the direct route by
`MARGIN` to be taken.

`BRAINLIKE_FAST_PATHS` (read at each choice): "auto" (default) measures; "on" takes the route the shape
rules pick, without measuring; "off" always takes the direct route. `forced(mode)` does the same for a
block of code (FLOP counts run the direct algorithm whatever fast path a machine would take).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from brainlike.errors import BrainlikeError

ENV = "BRAINLIKE_FAST_PATHS"
MODES = ("auto", "on", "off")
ROUNDS = 3
MARGIN = 0.95


@dataclass(frozen=True)
class Decision:
    """The route taken for one (path, shape class, thread count), and the best time of each route."""

    path: str
    shape_class: tuple
    threads: int
    chosen: str
    seconds: Mapping[str, float]


_DECISIONS: dict[tuple, Decision] = {}
_FORCED: list[str] = []


def mode() -> str:
    if _FORCED:
        return _FORCED[-1]
    value = os.environ.get(ENV, "auto").strip().lower()
    if value not in MODES:
        raise BrainlikeError(f"{ENV} must be one of {', '.join(MODES)}, not {value!r}")
    return value


@contextmanager
def forced(value: str) -> Iterator[None]:
    """Take every choice inside the block in mode `value` ("auto", "on" or "off"), whatever the environment."""
    if value not in MODES:
        raise BrainlikeError(f"fast-path mode must be one of {', '.join(MODES)}, not {value!r}")
    _FORCED.append(value)
    try:
        yield
    finally:
        _FORCED.pop()


def batch_class(batch: int) -> int:
    """Batch sizes are measured in powers of two: the smallest power of two >= batch."""
    return 1 << max(0, batch - 1).bit_length()


def _best_times(routes: Mapping[str, Callable[[], object]]) -> dict[str, float]:
    """Best of ROUNDS interleaved timings per route, after one untimed call each (caches, allocations)."""
    with torch.no_grad():
        for run in routes.values():
            run()
        best = dict.fromkeys(routes, float("inf"))
        for _ in range(ROUNDS):
            for name, run in routes.items():
                started = time.perf_counter()
                run()
                best[name] = min(best[name], time.perf_counter() - started)
    return best


def choose(path: str, shape_class: tuple, routes: Mapping[str, Callable[[], object]], *, rule: str) -> str:
    """The name of the route to take. `routes` maps names to calls computing the same result, the direct
    route first; `rule` is the route the shape rules would pick (what mode "on" takes)."""
    names = list(routes)
    chosen = {"off": names[0], "on": rule}.get(mode())
    if chosen is not None or len(names) == 1:
        return chosen or names[0]
    key = (path, shape_class, torch.get_num_threads())
    if key not in _DECISIONS:
        seconds = _best_times(routes)
        fastest = min(names, key=seconds.__getitem__)
        if fastest != names[0] and seconds[fastest] > MARGIN * seconds[names[0]]:
            fastest = names[0]
        _DECISIONS[key] = Decision(path, shape_class, key[2], fastest, seconds)
    return _DECISIONS[key].chosen


def decisions() -> list[Decision]:
    """Every choice measured in this process so far (for benchmark tables)."""
    return list(_DECISIONS.values())


def forget() -> None:
    """Drop the measured choices, so the next call of each path measures again."""
    _DECISIONS.clear()
