"""`BrainScoreModel`: Brain-Score's BrainModel for any brainlike model, backed by `record()` and the card.

With brainscore-vision importable the class subclasses `brainscore_vision.model_interface.BrainModel` (so
Brain-Score's benchmarks and `isinstance` checks accept it) and answers with Brain-Score's assemblies;
without it, it is a plain class answering with xarray DataArrays of the same dims and coordinates.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn as nn

from brainlike.analysis.features import unit_coordinates
from brainlike.brainscore.assemblies import make_assembly
from brainlike.brainscore.behaviour import (
    ProbabilitiesReadout,
    check_label_set,
    label_choices,
    odd_one_out,
)
from brainlike.brainscore.bins import as_bins, step_for_bins
from brainlike.brainscore.regions import region_areas
from brainlike.brainscore.stimuli import presentation_coords, stimulus_files
from brainlike.brainscore.trials import check_trials, is_stochastic, mean_over_trials
from brainlike.errors import BrainlikeError
from brainlike.recording import ALL_STREAMS, card_of, layer_name, record
from brainlike.registry import Area, TimeBin, create_model
from brainlike.runtime.devices import pick_device
from brainlike.transforms import load_images

try:
    from brainscore_vision.model_interface import BrainModel as _BrainModel
except ImportError:  # brainscore-vision is optional: the adapter works without it
    _BrainModel = object

TASKS = ("passive", "label", "probabilities", "odd_one_out")


def _task_name(task) -> str:
    name = str(task).lower().rsplit(".", 1)[-1]
    if name not in TASKS:
        raise BrainlikeError(f"unknown task {task!r}; the tasks are {', '.join(TASKS)}")
    return name


class BrainScoreModel(_BrainModel):
    """Brain-Score's BrainModel interface (identifier, visual_degrees, start_task, start_recording, look_at).

    regions: region -> area name, overriding or completing the card's commitments. stream: which stream of a
    two-stream area (BLT-VS: "bu", the default, "td", or "all" for both, concatenated along channels as
    Brain-Score's BLT-VS plugin reads them). behaviour_area: the area whose last step, averaged over space,
    is the readout for `probabilities` and `odd_one_out` (default: the last area, the features the
    classifier reads). stochastic: whether repeated presentations differ (default: detected, see
    `brainlike.brainscore.trials`); a stochastic model runs `number_of_trials` times and answers with the
    mean, a deterministic one runs once.
    """

    def __init__(
        self,
        model: str | nn.Module,
        *,
        pretrained: bool | str = True,
        identifier: str | None = None,
        batch_size: int = 64,
        device: str = "auto",
        regions: Mapping[str, str] | None = None,
        stream: str | None = None,
        behaviour_area: str | None = None,
        stochastic: bool | None = None,
    ):
        device = pick_device(device)
        self.model = (create_model(model, pretrained=pretrained) if isinstance(model, str) else model).eval()
        self.model.to(device)
        self.card = card_of(self.model)
        self._identifier = identifier or self.card.name
        self.batch_size, self.device, self.stream = batch_size, device, stream
        self.regions = region_areas(self.card, regions)
        self.behaviour_area = self.card.area(behaviour_area or self.card.area_names[-1])
        self.stochastic = is_stochastic(self.model) if stochastic is None else bool(stochastic)
        self.recording: tuple[Area, list[TimeBin], list[int]] | None = None
        self.task: str | None = None
        self.task_setup = None

    @property
    def identifier(self) -> str:
        return self._identifier

    def visual_degrees(self) -> float:
        """How many degrees of visual angle the model's input spans."""
        return self.card.visual_degrees

    def start_task(self, task, fitting_stimuli=None, number_of_trials: int = 1, **_) -> None:
        """passive; label with a label set ("imagenet", "ecoset") or a list of labels; probabilities with
        fitting stimuli carrying `image_label`; odd_one_out. Until `start_recording`, look_at answers the task."""
        name = _task_name(task)
        setup = None
        if name == "label":
            setup = check_label_set(fitting_stimuli, self.card)
        elif name == "probabilities":
            if fitting_stimuli is None or "image_label" not in getattr(fitting_stimuli, "columns", ()):
                raise BrainlikeError("the probabilities task needs fitting stimuli with an image_label column")
            _, paths = stimulus_files(fitting_stimuli)
            features = self._trials(paths, self._readout_features, check_trials(number_of_trials))
            setup = ProbabilitiesReadout().fit(features, fitting_stimuli["image_label"].values)
        self.task, self.task_setup, self.recording = name, setup, None

    def start_recording(self, recording_target, time_bins: Sequence[TimeBin] = ((70, 170),)) -> None:
        """Record the area committed to `recording_target` (V1, V2, V4, IT) in the requested ms bins."""
        region = str(recording_target).rsplit(".", 1)[-1]
        if region not in self.regions:
            raise BrainlikeError(
                f"{self.identifier} commits no area to region {region!r}; "
                f"its regions are {', '.join(self.regions) or 'none'}"
            )
        area = self.card.area(self.regions[region])
        bins = as_bins(time_bins)
        self.recording = (area, bins, step_for_bins(area, bins))
        self.recorded_region, self.task = region, None

    def look_at(self, stimuli, number_of_trials: int = 1, **_):
        """The recording (presentation, neuroid, time_bin) or the task's behaviour for `stimuli`, averaged over
        `number_of_trials` presentations for a stochastic model."""
        trials = check_trials(number_of_trials)
        if self.recording is not None:
            return self._look_recording(stimuli, trials)
        if self.task in (None, "passive"):
            if self.task is None:
                raise BrainlikeError("call start_recording(region, time_bins) or start_task(task) before look_at")
            return None
        if self.task == "odd_one_out":
            return self._look_odd_one_out(stimuli, trials)
        ids, paths = self._files(stimuli)
        coords = presentation_coords(stimuli, ids, paths)
        if self.task == "label":
            logits = self._trials(paths, self._logits, trials)
            choices, extra = label_choices(logits, self.task_setup, self.card)
            coords.update({k: ("presentation", v) for k, v in extra.items()})
            return make_assembly("behavioral", np.array([choices], dtype=object), ("choice", "presentation"), coords)
        readout: ProbabilitiesReadout = self.task_setup
        probabilities = readout.predict(self._trials(paths, self._readout_features, trials))
        coords["choice"] = ("choice", np.array(readout.choices, dtype=object))
        return make_assembly("behavioral", probabilities, ("presentation", "choice"), coords)

    def _files(self, stimuli) -> tuple[list[str], list[str]]:
        ids, paths = stimulus_files(stimuli)
        if not paths:
            raise BrainlikeError("no stimuli to look at")
        return ids, paths

    def _trials(self, paths: list[str], run_batch, trials: int) -> np.ndarray:
        """Every batch through `run_batch`, once, or `trials` times (each a full pass) for a stochastic model."""

        def one_pass() -> np.ndarray:
            blocks = []
            for lo in range(0, len(paths), self.batch_size):
                x = load_images(paths[lo : lo + self.batch_size], self.card.preprocessing, self.card.input_size)
                blocks.append(run_batch(x.to(self.device)))
            return np.concatenate(blocks)

        return mean_over_trials(one_pass, trials if self.stochastic else 1)

    def _logits(self, x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return self.model(x).float().cpu().numpy()

    def _readout_features(self, x: torch.Tensor) -> np.ndarray:
        area = self.behaviour_area
        out = record(self.model, x, areas=[area.name], steps=[-1], stream=self.stream, pool="avg")
        return np.concatenate([v[0].flatten(1).cpu().numpy() for v in out.values()], axis=1)

    def _recorded(self, x: torch.Tensor) -> np.ndarray:
        """(batch, neuroid, time_bin) of the recorded area at the steps that answer the requested bins."""
        area, _, steps = self.recording
        needed = sorted(set(steps))
        out = record(self.model, x, areas=[area.name], steps=needed, stream=self.stream)
        self._shapes = [tuple(v[0].shape[1:]) for v in out.values()]
        by_step = [dict(zip(needed, v)) for v in out.values()]
        return np.stack(
            [np.concatenate([s[t].flatten(1).cpu().numpy() for s in by_step], axis=1) for t in steps], axis=-1
        )

    def _look_recording(self, stimuli, trials: int):
        area, bins, steps = self.recording
        ids, paths = self._files(stimuli)
        values = self._trials(paths, self._recorded, trials)
        coords = {
            **presentation_coords(stimuli, ids, paths),
            **self._neuroid_coords(area),
            "time_bin_start": ("time_bin", np.array([b[0] for b in bins])),
            "time_bin_end": ("time_bin", np.array([b[1] for b in bins])),
        }
        # the layer answering each bin goes into attrs: a third time_bin coordinate would join the time_bin
        # index, and Brain-Score's temporal metrics require the model's index to equal the data's
        attrs = {"layers": [layer_name(area.name, t) for t in steps]}
        return make_assembly("neuroid", values, ("presentation", "neuroid", "time_bin"), coords, attrs)

    def _streams(self, area: Area) -> list[str]:
        if self.stream == ALL_STREAMS:
            return list(area.streams)
        return [self.stream or area.streams[0]]

    def _neuroid_coords(self, area: Area) -> dict:
        """neuroid_id, region, area, stream and (channel, y, x) of each unit; with stream="all" the streams are
        concatenated along channels, so the top-down channels follow the bottom-up ones."""
        columns = {"channel": [], "y": [], "x": [], "stream": []}
        offset = 0
        for stream, shape in zip(self._streams(area), self._shapes):
            channel, y, x = unit_coordinates(shape)
            for key, column in zip(columns, (channel + offset, y, x, np.full(len(channel), stream, dtype=object))):
                columns[key].append(column)
            offset += shape[0] if shape else 1
        merged = {k: np.concatenate(v) for k, v in columns.items()}
        size = len(merged["channel"])
        ids = [f"{area.name}.{stream}.{i}" for i, stream in enumerate(merged["stream"])]
        return {
            "neuroid_id": ("neuroid", np.array(ids, dtype=object)),
            "region": ("neuroid", np.full(size, self.recorded_region, dtype=object)),
            "area": ("neuroid", np.full(size, area.name, dtype=object)),
            **{k: ("neuroid", v) for k, v in merged.items()},
        }

    def _look_odd_one_out(self, triplets, trials: int):
        ids, paths = self._files(triplets)
        unique = dict(zip(ids, paths))
        features = self._trials(list(unique.values()), self._readout_features, trials)
        choices = odd_one_out(features, list(unique), ids)
        triplet_ids = ["|".join(ids[k : k + 3]) for k in range(0, len(ids), 3)]
        coords = {"stimulus_id": ("presentation", np.array(triplet_ids, dtype=object))}
        return make_assembly("behavioral", np.array([choices], dtype=object), ("choice", "presentation"), coords)
