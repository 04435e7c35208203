"""Responses of one model area to grating sets: rendered in batches, recorded through the area's tap,
rectified, and reduced to the units asked for, so activations of all units are never all kept."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch
import torch.nn as nn

from brainlike.analysis.v1.protocol import TIME_BIN_MS
from brainlike.data.stimuli import GratingSet, Screen, blank_set
from brainlike.recording import card_of, record
from brainlike.registry import Area


@dataclass
class Timings:
    """Seconds spent rendering stimuli and running the model; the rest of a run is analysis."""

    stimuli: float = 0.0
    forward: float = 0.0
    batches: int = 0
    images: int = 0


def response_step(area: Area, time_bin: tuple[float, float] = TIME_BIN_MS) -> int:
    """The step of `area` whose time bin overlaps `time_bin` most (ties: nearest centre); steps that do
    not depend on the image are skipped, and an area without time bins answers with its last step."""
    steps = [t for t in range(area.steps) if t not in area.silent_steps] or list(range(area.steps))
    binned = [t for t in steps if area.time_bins[t] is not None]
    if not binned:
        return steps[-1]
    centre = sum(time_bin) / 2

    def rank(t: int) -> tuple[float, float]:
        start, end = area.time_bins[t]
        overlap = max(0.0, min(end, time_bin[1]) - max(start, time_bin[0]))
        return -overlap, abs((start + end) / 2 - centre)

    return min(binned, key=rank)


# One batch of an area's activations is kept near this size: wide areas (VOne's 512 x 56 x 56)
# then run in small batches, which keeps peak memory down and the freshly allocated
# activations out of the kernel's page-fault path; narrow areas still get 32 images at a time.
# Every set of the protocol but the blank holds a multiple of its 8 phases, so batches of a multiple
# of 8 images leave no short last batch: the model sees one input shape, and the CPU fast paths
# (`kernels.calibration`) time their routes once, not once more per short batch.
BATCH_BYTES = 64 << 20
MAX_BATCH = 32
BATCH_MULTIPLE = 8


def default_batch_size(units: int) -> int:
    """Images per batch for an area of `units` float32 units (1 to 32; a multiple of 8 from 8 up)."""
    size = max(1, min(MAX_BATCH, BATCH_BYTES // (4 * units)))
    return size if size < BATCH_MULTIPLE else size - size % BATCH_MULTIPLE


@dataclass
class AreaRecorder:
    """Shows stimulus sets to `model` and reads `area` at the protocol's time step.

    batch_size None: `default_batch_size` of the area, set by `blank()` (32 until then).
    trials > 1 averages repeated presentations (for stochastic models; the protocol shows each image once).
    """

    model: nn.Module
    area: str = "V1"
    batch_size: int | None = None
    trials: int = 1
    timings: Timings = field(default_factory=Timings)

    def __post_init__(self):
        card = card_of(self.model)
        self.step = response_step(card.area(self.area))
        self.screen = Screen.of(card)
        parameter = next(self.model.parameters(), None)
        self.device = parameter.device if parameter is not None else torch.device("cpu")

    def activations(
        self, stimuli: GratingSet, batch_size: int | None = None, units: torch.Tensor | None = None
    ) -> Iterator[tuple[int, torch.Tensor]]:
        """(first image index, rectified activations (batch, units)) for consecutive batches, of all units
        or of `units` (flat indices on the recorder's device), picked before anything else is done."""
        size = batch_size or self.images_per_batch
        for start in range(0, len(stimuli), size):
            began = time.perf_counter()
            x = stimuli.render(self.screen, start, start + size).to(self.device)
            rendered = time.perf_counter()
            trials = [self._record(x, units) for _ in range(self.trials)]
            activations = (trials[0] if self.trials == 1 else torch.stack(trials).mean(dim=0)).clamp_(min=0)
            self.timings.stimuli += rendered - began
            self.timings.forward += time.perf_counter() - rendered
            self.timings.batches += 1
            self.timings.images += len(x)
            yield start, activations

    def _record(self, x: torch.Tensor, units: torch.Tensor | None) -> torch.Tensor:
        flat = record(self.model, x, areas=[self.area], steps=[self.step])[self.area][0].flatten(1)
        return flat if units is None else flat.index_select(1, units)

    @property
    def images_per_batch(self) -> int:
        return self.batch_size or MAX_BATCH

    def blank(self) -> torch.Tensor:
        """Rectified response (units,) to the blank screen; fixes the batch size if it was left open."""
        _, activations = next(self.activations(blank_set(), batch_size=1))
        if self.batch_size is None:
            self.batch_size = default_batch_size(activations.shape[1])
        return activations[0]

    def responses(self, stimuli: GratingSet, units: torch.Tensor | None = None) -> np.ndarray:
        """Rectified responses (images, units) to a whole set, for `units` (flat indices) or all units, as
        float64 (collected as the model's float32: only the units asked for are kept from each batch)."""
        index = None if units is None else torch.as_tensor(units, device=self.device)
        out = None
        for start, chosen in self.activations(stimuli, units=index):
            if out is None:
                out = torch.empty(len(stimuli), chosen.shape[1], dtype=chosen.dtype)
            out[start : start + len(chosen)] = chosen
        return out.numpy().astype(np.float64)
