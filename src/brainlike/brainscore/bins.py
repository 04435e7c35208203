"""Brain-Score's time-bin semantics: which recurrent step answers a requested (start, end) bin."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from brainlike.errors import BrainlikeError
from brainlike.registry import Area, TimeBin, nearest_step


def step_for_bins(area: Area, time_bins: Sequence[TimeBin]) -> list[int]:
    """For each requested (start, end) bin, the step of `area` whose committed bin starts nearest. An area of
    one step with no time commitment (a feed-forward CALC or wrapped area) answers every bin with that step,
    as Brain-Score's TemporalIgnore does for static models; a recurrent area needs committed steps."""
    if not time_bins:
        raise BrainlikeError("no time bins requested")
    for requested in time_bins:
        if len(requested) != 2 or requested[1] <= requested[0]:
            raise BrainlikeError(f"a time bin is (start_ms, end_ms) with end > start, not {requested!r}")
    if all(b is None for b in area.time_bins):
        if area.steps == 1 and not area.silent_steps:
            return [0] * len(time_bins)
        raise BrainlikeError(f"area {area.name} has no time commitment, so it cannot answer time bins")
    return [nearest_step(dict(enumerate(area.time_bins)), requested) for requested in time_bins]


def as_bins(time_bins) -> list[TimeBin]:
    """Requested bins as float (start, end) pairs. Brain-Score passes tuples, or for an assembly whose single
    time bin was squeezed away, 0-d object arrays holding the tuple."""

    def pair(b) -> TimeBin:
        if isinstance(b, np.ndarray) and b.ndim == 0:
            b = b.item()
        return tuple(float(v) for v in b)

    try:
        return [pair(b) for b in time_bins]
    except (TypeError, ValueError):
        raise BrainlikeError(f"time bins are (start_ms, end_ms) pairs, not {time_bins!r}") from None
