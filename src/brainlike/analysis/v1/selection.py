"""Receptive-field mapping and unit selection (Marques et al. 2021).

Each unit's RF map is its rectified response above the blank, maximised over the 4 orientations x 2
phases shown at each of 21 x 21 positions. The RF centre is the map-weighted centroid of the positions
above 5% of the unit's peak, and the units whose centre lies within 0.15 deg of the test stimuli's
centre are the ones the properties are measured on.
"""

from __future__ import annotations

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
    """RF centre (x, y) in degrees of every unit; NaN for units that never respond above the blank."""
    side = len(RF_POSITIONS)
    grid = torch.arange(maps.shape[0], device=maps.device)
    rows, cols = (grid // side).double(), (grid % side).double()
    centre_row, centre_col = [], []
    for start in range(0, maps.shape[1], CENTROID_CHUNK):
        chunk = maps[:, start : start + CENTROID_CHUNK].double()
        peak = chunk.amax(dim=0)
        weights = chunk * (chunk > RF_THRESHOLD * peak)
        total = weights.sum(dim=0)
        silent = peak <= 0
        centre_row.append(torch.where(silent, torch.nan, (rows @ weights) / total))
        centre_col.append(torch.where(silent, torch.nan, (cols @ weights) / total))
    index = np.arange(side)
    to_degrees = lambda c: np.interp(torch.cat(c).cpu().numpy(), index, RF_POSITIONS)  # noqa: E731
    x, y = to_degrees(centre_col), to_degrees(centre_row)
    silent = np.isnan(torch.cat(centre_row).cpu().numpy())
    x[silent], y[silent] = np.nan, np.nan
    return x, y


def select_units(
    recorder: AreaRecorder, blank: torch.Tensor, *, max_units: int | None = 1000, seed: int = 0, where: str = "the area"
) -> UnitSelection:
    """Map every unit's RF and keep those centred within 0.15 deg of the test stimuli; if more than
    `max_units` qualify, a seeded random subset of them is measured."""
    x, y = receptive_field_centres(receptive_field_maps(recorder, blank))
    mapped = ~np.isnan(x)
    distance = np.hypot(x - POSITION[0], y - POSITION[1])
    chosen = np.flatnonzero(mapped & (distance <= RF_DELTA_DEG))
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
