"""Receptive-field mapping and unit selection (Marques et al. 2021).

Each unit's RF map is its rectified response above the blank, maximised over the 4 orientations x 2
phases shown at each of 21 x 21 positions. The RF centre is the map-weighted centroid of the positions
above 5% of the unit's peak, and the units whose centre lies within 0.15 deg of the test stimuli's
centre are the ones the properties are measured on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from brainlike.analysis.v1.protocol import RF_DELTA_DEG, RF_THRESHOLD
from brainlike.analysis.v1.responses import AreaRecorder
from brainlike.data.stimuli import POSITION, RF_POSITIONS, receptive_field_set
from brainlike.errors import BrainlikeError

# Past this size the per-position RF maps are held in bfloat16 (3 significant digits), which is
# plenty for a weighted centroid and keeps very wide areas under a few GB.
FLOAT32_MAP_BYTES = 1 << 30
CENTROID_CHUNK = 1 << 16
CENTRE_MARGIN_DEG = 0.01  # float32 centres nearer than this to the selection radius are recomputed in float64


@dataclass(frozen=True)
class UnitSelection:
    total_units: int
    mapped_units: int  # units with a receptive field at all
    in_rf: int  # units the protocol selects
    units: np.ndarray  # the flat indices measured: all selected ones, or a seeded subset of them
    rf_x: np.ndarray  # RF centre of each measured unit, deg right of the image centre
    rf_y: np.ndarray  # deg below the image centre


def receptive_field_maps(recorder: AreaRecorder, blank: torch.Tensor) -> torch.Tensor:
    """(positions, units) RF maps, positions in row-major (y, x) grid order."""
    stimuli = receptive_field_set()
    per_position = int(np.prod(stimuli.shape[2:]))
    positions = len(stimuli) // per_position
    units = blank.numel()
    dtype = torch.float32 if positions * units * 4 <= FLOAT32_MAP_BYTES else torch.bfloat16
    maps = torch.empty(positions, units, dtype=dtype, device=blank.device)
    batch = per_position * max(1, recorder.images_per_batch // per_position)
    for start, activations in recorder.activations(stimuli, batch_size=batch):
        # max(a - blank) == max(a) - blank exactly (rounding is monotonic), on 1/8 of the values.
        above = activations.view(-1, per_position, units).amax(dim=1).sub_(blank).clamp_(min=0)
        first = start // per_position
        maps[first : first + len(above)] = above.to(dtype)
    return maps


def receptive_field_centres(maps: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """RF centre (x, y) in degrees of every unit; NaN for units that never respond above the blank.

    Float64 throughout, as the protocol computes it; `centres_near` gives the same centres near a point
    at a fraction of the cost."""
    row, col = _grid_centres(maps, torch.float64)
    return _to_degrees(col), _to_degrees(row)


def centres_near(
    maps: torch.Tensor, point: tuple[float, float], radius: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RF centres (x, y) in degrees of every unit, and the indices of the units within `radius` of `point`.

    All centres are first found in float32 (with the exact float64 threshold test, so the same positions
    count as RF); those within `radius + CENTRE_MARGIN_DEG` of `point` are then recomputed in float64 as
    `receptive_field_centres` does. Float32 sums of the <= 441 non-negative terms are within 441 x 2^-24
    (3e-5) of their value, so a float32 centre is within 1.1e-3 grid steps (3e-4 deg) of the float64 one:
    every unit the float64 protocol selects is recomputed, and the selection and the centres of the
    selected units are exactly those of `receptive_field_centres` (whose float64 sums are exact: the
    weights are bfloat16 or float32 values within a factor 20 of each unit's peak, times integers <= 20).
    The other units' centres are float32-accurate. Float64 maps are computed in float64 throughout.
    """
    if maps.dtype == torch.float64:
        x, y = receptive_field_centres(maps)
        with np.errstate(invalid="ignore"):
            return x, y, np.flatnonzero(np.hypot(x - point[0], y - point[1]) <= radius)
    row, col = _grid_centres(maps, torch.float32)
    x, y = _to_degrees(col), _to_degrees(row)
    with np.errstate(invalid="ignore"):
        near = np.flatnonzero(np.hypot(x - point[0], y - point[1]) <= radius + CENTRE_MARGIN_DEG)
    if near.size:
        index = torch.as_tensor(near, device=maps.device)
        exact_row, exact_col = _grid_centres(maps.index_select(1, index), torch.float64)
        x[near], y[near] = _to_degrees(exact_col), _to_degrees(exact_row)
    with np.errstate(invalid="ignore"):
        chosen = np.flatnonzero(np.hypot(x - point[0], y - point[1]) <= radius)
    return x, y, chosen


def _to_degrees(grid_position: np.ndarray) -> np.ndarray:
    """Grid coordinate (0 .. side - 1) -> degrees; NaN stays NaN."""
    degrees = np.interp(grid_position, np.arange(len(RF_POSITIONS)), RF_POSITIONS)
    degrees[np.isnan(grid_position)] = np.nan
    return degrees


def above_threshold(values: torch.Tensor, peak: torch.Tensor) -> torch.Tensor:
    """values > RF_THRESHOLD * peak, decided as in float64 for float32 (or float64) values and peaks."""
    return values > _float_threshold(peak, values.dtype)


def _float_threshold(peak: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A threshold in `dtype` that a `dtype` value exceeds exactly when it exceeds the float64 threshold
    t = RF_THRESHOLD * peak: t rounded to t32, or the value below t32 where rounding went up (v > t then
    means v >= t32)."""
    exact = peak.double() * RF_THRESHOLD
    if dtype == torch.float64:
        return exact
    rounded = exact.to(dtype)
    below = torch.nextafter(rounded, torch.tensor(-math.inf, dtype=dtype))
    return torch.where(rounded.double() > exact, below, rounded)


def _grid_centres(maps: torch.Tensor, dtype: torch.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Map-weighted centroid (row, column) in grid steps of the positions above RF_THRESHOLD x peak, per
    unit (float64 arrays, NaN where the unit never responds), summed in `dtype`."""
    side = len(RF_POSITIONS)
    grid = torch.arange(maps.shape[0], device=maps.device)
    coordinates = torch.stack([torch.ones_like(grid), grid // side, grid % side]).to(dtype)  # (3, positions)
    rows, cols = [], []
    for start in range(0, maps.shape[1], CENTROID_CHUNK):
        chunk = maps[:, start : start + CENTROID_CHUNK].to(dtype)
        peak = chunk.amax(dim=0)
        weights = torch.where(chunk > _float_threshold(peak, dtype), chunk, 0)
        total, row, col = (coordinates @ weights).double()
        silent = peak <= 0
        rows.append(torch.where(silent, torch.nan, row / total))
        cols.append(torch.where(silent, torch.nan, col / total))
    if not rows:
        return np.empty(0), np.empty(0)
    return torch.cat(rows).cpu().numpy(), torch.cat(cols).cpu().numpy()


def select_units(
    recorder: AreaRecorder, blank: torch.Tensor, *, max_units: int | None = 1000, seed: int = 0, where: str = "the area"
) -> UnitSelection:
    """Map every unit's RF and keep those centred within 0.15 deg of the test stimuli; if more than
    `max_units` qualify, a seeded random subset of them is measured."""
    x, y, chosen = centres_near(receptive_field_maps(recorder, blank), POSITION, RF_DELTA_DEG)
    mapped = ~np.isnan(x)
    if chosen.size == 0:
        raise BrainlikeError(
            f"no unit of {where} has its receptive field within {RF_DELTA_DEG} deg of the stimulus centre "
            f"({int(mapped.sum())} of {x.size} units respond to the mapping gratings at all)"
        )
    measured = choose_units(chosen, max_units, seed)
    return UnitSelection(x.size, int(mapped.sum()), chosen.size, measured, x[measured], y[measured])


def choose_units(candidates: np.ndarray, max_units: int | None, seed: int) -> np.ndarray:
    """All candidates if they are few enough, else a sorted random subset of `max_units` of them."""
    if max_units is not None and max_units < 1:
        raise BrainlikeError(f"max_units must be at least 1, not {max_units}")
    if max_units is None or candidates.size <= max_units:
        return candidates
    return np.sort(np.random.default_rng(seed).choice(candidates, size=max_units, replace=False))
