"""The affine map from model activations to firing rates (spikes/s) of the Marques et al. protocol.

One slope and offset per model, fitted on the orientation set: the median peak response of the
responsive units maps to 33.8 spikes/s and their median blank response to 0.82 spikes/s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brainlike.analysis.v1.protocol import (
    MEDIAN_MAX_RESPONSE,
    MEDIAN_SPONTANEOUS,
    RESPONSE_THRESHOLD,
    SINGLE_MAX_RESPONSE,
)
from brainlike.errors import BrainlikeError


@dataclass(frozen=True)
class RateMap:
    slope: float
    offset: float
    responsive_units: int

    def __call__(self, activations: np.ndarray) -> np.ndarray:
        return np.maximum(0.0, self.slope * np.maximum(0.0, activations) + self.offset)


def fit_rate_map(blank: np.ndarray, orientation: np.ndarray, *, where: str = "the area") -> RateMap:
    """Fit the map from the blank (units,) and orientation-set responses (..., phases, units), both
    rectified, phases on the second-to-last axis."""
    peak = orientation.mean(axis=-2).reshape(-1, orientation.shape[-1]).max(axis=0)
    gain = peak - blank
    responsive = gain > RESPONSE_THRESHOLD / SINGLE_MAX_RESPONSE * gain.max(initial=0.0)
    if not responsive.any() or gain.max(initial=0.0) <= 0:
        raise BrainlikeError(f"no unit of {where} responds to the orientation gratings more than to the blank")
    median_blank = float(np.median(blank[responsive]))
    median_peak = float(np.median(peak[responsive]))
    if median_peak <= median_blank:
        raise BrainlikeError(f"the responsive units of {where} respond no more to gratings than to the blank")
    slope = (MEDIAN_MAX_RESPONSE - MEDIAN_SPONTANEOUS) / (median_peak - median_blank)
    return RateMap(slope, MEDIAN_SPONTANEOUS - slope * median_blank, int(responsive.sum()))
