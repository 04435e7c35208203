"""Extracted features (a features file or `load_features`' DataArray) as a Brain-Score NeuroidAssembly."""

from __future__ import annotations

import os
from typing import Iterable

import numpy as np

from brainlike.brainscore.assemblies import make_assembly
from brainlike.errors import BrainlikeError


def _stimulus_columns(stimulus_set, ids: list[str]) -> dict:
    if stimulus_set is None:
        return {}
    known = [str(i) for i in stimulus_set["stimulus_id"]]
    row = {stimulus: k for k, stimulus in enumerate(known)}
    missing = [i for i in ids if i not in row]
    if missing:
        raise BrainlikeError(f"{len(missing)} feature stimuli are not in the StimulusSet, e.g. {missing[0]!r}")
    order = [row[i] for i in ids]
    return {
        str(c): ("presentation", np.asarray(stimulus_set[c].values)[order])
        for c in stimulus_set.columns
        if c != "stimulus_id"
    }


def features_as_assembly(
    features,
    *,
    areas: Iterable[str] | None = None,
    steps: Iterable[int] | None = None,
    stimulus_set=None,
    region: str | None = None,
):
    """A NeuroidAssembly (presentation, neuroid) of a features file (path) or `load_features` output.

    stimulus_id and stimulus_num (the row) are on `presentation`, with every column of `stimulus_set`
    (matched by stimulus_id) when one is given; each neuroid keeps the features' coordinates (layer, area,
    step, time_bin_ms, channel, y, x, ...) and gets a neuroid_id "{layer}.{unit}" and, when given, a
    `region`. Without brainscore-core the result is a DataArray with the same dims and coordinates.
    """
    if isinstance(features, (str, os.PathLike)):
        from brainlike.analysis.features import load_features

        features = load_features(features, areas=areas, steps=steps)
    elif areas is not None or steps is not None:
        raise BrainlikeError("areas and steps select layers of a features file; this is already loaded")
    if tuple(features.dims) != ("stimulus", "neuroid"):
        raise BrainlikeError(f"features must have dims (stimulus, neuroid), not {tuple(features.dims)}")
    ids = [str(i) for i in features["stimulus"].values]
    layers = np.asarray(features["layer"].values) if "layer" in features.coords else np.full(features.shape[1], "")
    unit = np.zeros(len(layers), dtype=int)
    for layer in dict.fromkeys(layers):
        where = layers == layer
        unit[where] = np.arange(where.sum())
    neuroid = {
        name: ("neuroid", np.asarray(coord.values))
        for name, coord in features.coords.items()
        if coord.dims == ("neuroid",)
    }
    neuroid["neuroid_id"] = ("neuroid", np.array([f"{a}.{u}" for a, u in zip(layers, unit)], dtype=object))
    if region is not None:
        neuroid["region"] = ("neuroid", np.full(len(layers), region, dtype=object))
    coords = {
        "stimulus_id": ("presentation", np.array(ids, dtype=object)),
        # a second presentation coordinate keeps stimulus_id a level of the presentation index (alone, it
        # would become the index itself, and Brain-Score's metrics look it up by name)
        "stimulus_num": ("presentation", np.arange(len(ids))),
        **_stimulus_columns(stimulus_set, ids),
        **neuroid,
    }
    attrs = {k: v for k, v in features.attrs.items() if isinstance(v, (str, int, float))}
    return make_assembly("neuroid", np.asarray(features.values), ("presentation", "neuroid"), coords, attrs)
