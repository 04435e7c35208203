"""A Brain-Score BrainModel for any registered model, backed by `record()` and the model card.

    from brainlike.brainscore import BrainScoreModel
    model = BrainScoreModel("cornet_s", pretrained=True)
    model.start_recording("IT", [(70, 170), (170, 270)])
    assembly = model.look_at(stimulus_set)      # presentation x neuroid x time_bin

The card's region map decides which area answers a region; each requested time bin is answered by the
step of that area whose committed bin starts nearest to the requested start (steps with no commitment
are never used), and the answer is labelled with the requested bin, as Brain-Score's temporal wrappers
do. Activations are flattened (channel, y, x) in that order. brainscore-vision is optional: without it
`look_at` returns a plain xarray DataArray with the same dims and coordinates; with it, a NeuroidAssembly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch.nn as nn

from brainlike.analysis.features import unit_coordinates
from brainlike.errors import BrainlikeError
from brainlike.recording import card_of, layer_name, record
from brainlike.registry import Area, TimeBin, create_model, nearest_step
from brainlike.runtime.devices import pick_device
from brainlike.transforms import load_images


def step_for_bins(area: Area, time_bins: Sequence[TimeBin]) -> list[int]:
    """For each requested (start, end) bin, the step of `area` whose committed bin starts nearest."""
    if all(b is None for b in area.time_bins):
        raise BrainlikeError(f"area {area.name} has no time commitment, so it cannot answer time bins")
    if not time_bins:
        raise BrainlikeError("no time bins requested")
    for requested in time_bins:
        if len(requested) != 2 or requested[1] <= requested[0]:
            raise BrainlikeError(f"a time bin is (start_ms, end_ms) with end > start, not {requested!r}")
    return [nearest_step(dict(enumerate(area.time_bins)), requested) for requested in time_bins]


def stimulus_files(stimuli) -> tuple[list[str], list[str]]:
    """(ids, paths) of a Brain-Score StimulusSet (stimulus_id column + get_stimulus) or a list of paths."""
    if hasattr(stimuli, "get_stimulus"):
        ids = [str(i) for i in stimuli["stimulus_id"]]
        return ids, [str(stimuli.get_stimulus(i)) for i in stimuli["stimulus_id"]]
    if isinstance(stimuli, (str, os.PathLike)):
        stimuli = [stimuli]
    paths = [str(Path(p)) for p in stimuli]
    return paths, paths


class BrainScoreModel:
    """Brain-Score's BrainModel interface (identifier, visual_degrees, start_recording, look_at, start_task)."""

    def __init__(
        self,
        model: str | nn.Module,
        *,
        pretrained: bool | str = True,
        identifier: str | None = None,
        batch_size: int = 64,
        device: str = "auto",
    ):
        device = pick_device(device)
        self.model = (create_model(model, pretrained=pretrained) if isinstance(model, str) else model).eval()
        self.model.to(device)
        self.card = card_of(self.model)
        self._identifier = identifier or self.card.name
        self.batch_size, self.device = batch_size, device
        self.recording: tuple[Area, list[TimeBin], list[int]] | None = None

    @property
    def identifier(self) -> str:
        return self._identifier

    def visual_degrees(self) -> float:
        """How many degrees of visual angle the model's input spans."""
        return self.card.visual_degrees

    def start_task(self, task: str, fitting_stimuli=None) -> None:
        """Only passive viewing is supported: recording needs no task."""
        if str(task).lower() not in ("passive", "task.passive", "none"):
            raise BrainlikeError(f"{self.identifier}: only the passive task is supported, not {task!r}")

    def start_recording(self, recording_target: str, time_bins: Sequence[TimeBin] = ((70, 170),)) -> None:
        """Record the area committed to `recording_target` (V1, V2, V4, IT) in the requested ms bins."""
        regions = self.card.region_map()
        region = str(recording_target)
        if region not in regions:
            raise BrainlikeError(
                f"{self.identifier} commits no area to region {region!r}; "
                f"its regions are {', '.join(regions) or 'none'}"
            )
        area = self.card.area(regions[region])
        bins = [tuple(float(v) for v in b) for b in time_bins]
        self.recording = (area, bins, step_for_bins(area, bins))

    def look_at(self, stimuli, number_of_trials: int = 1):
        """Activations (presentation, neuroid, time_bin) of the recorded area; the model is deterministic,
        so `number_of_trials` changes nothing."""
        if self.recording is None:
            raise BrainlikeError("call start_recording(region, time_bins) before look_at")
        area, bins, steps = self.recording
        ids, paths = stimulus_files(stimuli)
        if not paths:
            raise BrainlikeError("no stimuli to look at")
        needed = sorted(set(steps))
        blocks = []
        for lo in range(0, len(paths), self.batch_size):
            x = load_images(paths[lo : lo + self.batch_size], self.card.preprocessing, self.card.input_size)
            recorded = record(self.model, x.to(self.device), areas=[area.name], steps=needed)[area.name]
            by_step = dict(zip(needed, recorded))
            blocks.append(np.stack([by_step[t].flatten(1).float().cpu().numpy() for t in steps], axis=-1))
        shape = tuple(by_step[needed[0]].shape[1:])
        return _assembly(np.concatenate(blocks), ids, paths, area, shape, bins, steps)


def _assembly(values: np.ndarray, ids, paths, area: Area, shape, bins, steps):
    import xarray as xr

    channel, y, x = unit_coordinates(shape)
    neuroid = {
        "neuroid_id": ("neuroid", [f"{area.name}.output.{i}" for i in range(values.shape[1])]),
        "region": ("neuroid", np.full(values.shape[1], area.region or area.name, dtype=object)),
        "channel": ("neuroid", channel),
        "y": ("neuroid", y),
        "x": ("neuroid", x),
    }
    coords = {
        "stimulus_id": ("presentation", ids),
        "stimulus_path": ("presentation", paths),
        **neuroid,
        "time_bin_start": ("time_bin", [b[0] for b in bins]),
        "time_bin_end": ("time_bin", [b[1] for b in bins]),
        "layer": ("time_bin", [layer_name(area.name, t) for t in steps]),
    }
    array = xr.DataArray(values, dims=("presentation", "neuroid", "time_bin"), coords=coords)
    try:
        from brainio.assemblies import NeuroidAssembly
    except ImportError:
        return array
    return NeuroidAssembly(array)
