"""`measure_v1`: the Marques et al. (2021) grating panel on one model area, end to end."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn

from brainlike.analysis.v1.properties import (
    orientation_properties,
    size_properties,
    spatial_frequency_properties,
)
from brainlike.analysis.v1.rates import RateMap, fit_rate_map
from brainlike.analysis.v1.responses import AreaRecorder, Timings
from brainlike.analysis.v1.scoring import GroupScore, PropertyScore, group_scores, score_properties
from brainlike.analysis.v1.selection import UnitSelection, select_units
from brainlike.data.stimuli import orientation_set, size_set, spatial_frequency_set
from brainlike.errors import BrainlikeError
from brainlike.recording import card_of


@dataclass
class V1Result:
    """Everything measured: the units, their properties and tuning curves, the scores, the timings."""

    model: str
    area: str
    step: int
    seed: int
    selection: UnitSelection
    rate_map: RateMap
    values: dict[str, np.ndarray]  # property -> value per measured unit (NaN where undefined)
    kept: dict[str, np.ndarray]  # property -> units its dataset's response criterion keeps
    curves: dict[str, np.ndarray]  # "orientation" / "spatial_frequency" / "size" -> (units, points)
    axes: dict[str, np.ndarray]  # the stimulus values along each curve
    scores: list[PropertyScore]
    groups: list[GroupScore]
    seconds: dict[str, float] = field(default_factory=dict)

    def score(self, prop: str, dataset: str | None = None) -> PropertyScore:
        for s in self.scores:
            if s.property == prop and (dataset is None or s.dataset == dataset):
                return s
        raise BrainlikeError(f"no property {prop!r} in this result")

    def frame(self):
        """The scores as a pandas DataFrame, one row per property."""
        import pandas as pd

        columns = [
            "property",
            "dataset",
            "benchmark",
            "group",
            "status",
            "score",
            "raw",
            "ceiling",
            "error",
            "units",
            "model_median",
            "data_median",
            "note",
        ]
        return pd.DataFrame([{c: getattr(s, c) for c in columns} for s in self.scores])

    def units_frame(self):
        """Per-unit property values as a pandas DataFrame (index: flat unit index in the area)."""
        import pandas as pd

        table = pd.DataFrame(self.values, index=pd.Index(self.selection.units, name="unit"))
        table.insert(0, "rf_y", self.selection.rf_y)
        table.insert(0, "rf_x", self.selection.rf_x)
        return table


def _grid(stimuli, responses: np.ndarray) -> np.ndarray:
    return responses.reshape(*stimuli.shape, responses.shape[-1])


class _Stages:
    """One line on stderr as each stage of the protocol starts: `v1 [2/5] orientation: 288 gratings x 50 units`,
    with the seconds since the measurement began."""

    COUNT = 5

    def __init__(self, where: str, enabled: bool):
        self.where, self.enabled, self.done, self.began = where, enabled, 0, time.perf_counter()

    def __call__(self, text: str) -> None:
        self.done += 1
        if self.enabled:
            elapsed = time.perf_counter() - self.began
            print(f"v1 {self.where} [{self.done}/{self.COUNT}] {text} ({elapsed:.1f} s)", file=sys.stderr, flush=True)


def measure_v1(
    model: nn.Module,
    *,
    area: str = "V1",
    max_units: int | None = 1000,
    seed: int = 0,
    batch_size: int | None = None,
    trials: int = 1,
    progress: bool = False,
) -> V1Result:
    """Map receptive fields, select units, show the orientation, SF and size sets, convert to firing
    rates, compute the V1 properties and score them against the published distributions.

    max_units caps the units measured (a seeded subset of those the protocol selects); trials > 1
    averages repeated presentations for stochastic models. Seeds torch and numpy from `seed`.
    `progress` prints a line on stderr as each of the five stages starts.
    """
    began = time.perf_counter()
    card = card_of(model)
    where = f"{card.name} {area}"
    stage = _Stages(where, progress)
    torch.manual_seed(seed)
    recorder = AreaRecorder(model, area, batch_size=batch_size, trials=trials)
    stage("receptive fields: mapping and selecting units")
    blank = recorder.blank()
    selection = select_units(recorder, blank, max_units=max_units, seed=seed, where=where)
    units = torch.as_tensor(selection.units)

    sets = {"orientation": orientation_set(), "spatial_frequency": spatial_frequency_set(), "size": size_set()}
    activations = {}
    for name, gratings in sets.items():
        stage(f"{name.replace('_', ' ')}: {int(np.prod(gratings.shape))} gratings x {units.numel()} units")
        activations[name] = _grid(gratings, recorder.responses(gratings, units))
    stage("firing rates, properties and scores")
    blank_units = blank.index_select(0, units.to(blank.device)).double().cpu().numpy()
    rate_map = fit_rate_map(blank_units, activations["orientation"], where=where)
    rates = {name: rate_map(a) for name, a in activations.items()}
    baseline = rate_map(blank_units)

    parts = [
        orientation_properties(rates["orientation"], baseline, sets["orientation"].grid["orientation"]),
        spatial_frequency_properties(
            rates["spatial_frequency"], baseline, sets["spatial_frequency"].grid["spatial_frequency"]
        ),
        size_properties(rates["size"], baseline, sets["size"].grid["radius"]),
    ]
    values = {k: v for p in parts for k, v in p.values.items()}
    kept = {k: v for p in parts for k, v in p.kept.items()}
    if not any(mask.any() for mask in kept.values()):
        raise BrainlikeError(
            f"none of the {units.numel()} selected units of {where} responds to gratings "
            "more than 5 spikes/s above its baseline"
        )
    scores = score_properties(values, kept, seed=seed)
    curves = {k: v for p in parts for k, v in p.curves.items()}
    axes = {
        "orientation": sets["orientation"].grid["orientation"],
        "spatial_frequency": sets["spatial_frequency"].grid["spatial_frequency"],
        "size": 2 * sets["size"].grid["radius"],
    }
    total = time.perf_counter() - began
    timings: Timings = recorder.timings
    seconds = {
        "stimuli": timings.stimuli,
        "forward": timings.forward,
        "analysis": total - timings.stimuli - timings.forward,
        "total": total,
        "images": timings.images,
    }
    return V1Result(
        card.name,
        area,
        recorder.step,
        seed,
        selection,
        rate_map,
        values,
        kept,
        curves,
        axes,
        scores,
        group_scores(scores),
        seconds,
    )
