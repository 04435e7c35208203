"""Features files read back as xarray: one layer at a time, or all of them as (stimulus, neuroid)."""

from __future__ import annotations

import os
from typing import Iterable

import h5py
import numpy as np

from brainlike.analysis.features.store import dataset_key, open_features, skipped, stored_ids, stored_layers
from brainlike.errors import BrainlikeError
from brainlike.recording import layer_name

NEUROID_COORDS = ("layer", "area", "step", "kind", "stream", "time_bin_ms", "time_bin_end_ms", "channel", "y", "x")


def unit_coordinates(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(channel, y, x) of each unit of a (channel[, y, x]) activation flattened in that order; y and x are
    -1 where the activation has no such axis (spatially pooled), and a scalar activation is channel 0."""
    grid = np.indices(shape).reshape(len(shape), -1) if shape else np.zeros((1, 1), dtype=int)
    absent = np.full(grid.shape[1], -1)
    return grid[0], grid[1] if len(shape) > 1 else absent, grid[2] if len(shape) > 2 else absent


def feature_layers(path: str | os.PathLike) -> list[tuple[str, int]]:
    """(area, step) pairs stored in a features file, in extraction order."""
    with open_features(path) as handle:
        return stored_layers(handle)


def stimulus_ids(path: str | os.PathLike) -> list[str]:
    with open_features(path) as handle:
        return stored_ids(handle)


def skipped_stimuli(path: str | os.PathLike) -> list[str]:
    """Stimuli an extraction with skip_bad could not read: their features are NaN."""
    with open_features(path) as handle:
        return skipped(handle)


def _layer_array(handle: h5py.File, area: str, step: int):
    import xarray as xr

    key = dataset_key(area, step)
    if key not in handle:
        raise BrainlikeError(
            f"the file has no features for {layer_name(area, step)}; "
            f"it has {', '.join(layer_name(a, t) for a, t in stored_layers(handle))}"
        )
    dataset = handle[key]
    values = dataset[()]
    start, end = (float(v) for v in dataset.attrs["time_bin_ms"])
    dims = ("stimulus", "channel", "y", "x")[: values.ndim]
    coords = {"stimulus": stored_ids(handle), "channel": np.arange(values.shape[1])}
    coords.update({d: np.arange(n) for d, n in zip(dims[2:], values.shape[2:])})
    return xr.DataArray(
        values,
        dims=dims,
        coords=coords,
        name=dataset.attrs["layer"],
        attrs={
            "area": area,
            "step": step,
            "time_bin_ms": (start, end),
            "image_dependent": bool(dataset.attrs["image_dependent"]),
            # files written before layers and readouts could be extracted hold areas only
            "kind": str(dataset.attrs.get("kind", "area")),
            "stream": str(dataset.attrs.get("stream", "")),
            "module": str(dataset.attrs.get("module", "")),
        },
    )


def load_layer(path: str | os.PathLike, area: str, step: int):
    """One (area, step) as an xarray DataArray (stimulus, channel[, y, x]); `area` is an area ("V4"), an
    area's stream ("V4.td"), a module path ("layer3.1.conv2") or "readout" (the logits); `.attrs` says
    which (kind, stream, module) and holds the step's time bin."""
    with open_features(path) as handle:
        return _layer_array(handle, area, step)


def _neuroid_coords(layer, size: int) -> dict[str, np.ndarray]:
    channel, y, x = unit_coordinates(layer.shape[1:])
    start, end = layer.attrs["time_bin_ms"]
    return {
        "layer": np.full(size, layer.name, dtype=object),
        "area": np.full(size, layer.attrs["area"], dtype=object),
        "step": np.full(size, layer.attrs["step"]),
        "kind": np.full(size, layer.attrs["kind"], dtype=object),
        "stream": np.full(size, layer.attrs["stream"], dtype=object),
        "time_bin_ms": np.full(size, start),
        "time_bin_end_ms": np.full(size, end),
        "channel": channel,
        "y": y,
        "x": x,
    }


def load_features(
    path: str | os.PathLike,
    *,
    areas: Iterable[str] | None = None,
    steps: Iterable[int] | None = None,
    kinds: Iterable[str] | None = None,
):
    """The features as one xarray DataArray with dims (stimulus, neuroid).

    Each neuroid carries the coordinates layer, area (an area, "V4.td" for one stream of a two-stream area,
    a module path, or "readout"), step, kind ("area", "layer" or "readout"), stream (the area's stream; ""
    for module paths and readouts), time_bin_ms (bin start; NaN for a step with no commitment),
    time_bin_end_ms, channel, y and x (y = x = -1 for spatially pooled features). `areas`, `steps` and
    `kinds` keep only those. The model card and the extraction settings are in `.attrs`.
    """
    import xarray as xr

    areas, steps, kinds = (None if v is None else set(v) for v in (areas, steps, kinds))
    with open_features(path) as handle:
        pairs = [
            (a, t)
            for a, t in stored_layers(handle)
            if (areas is None or a in areas)
            and (steps is None or t in steps)
            and (kinds is None or handle[dataset_key(a, t)].attrs.get("kind", "area") in kinds)
        ]
        if not pairs:
            raise BrainlikeError(f"no layers in {path} match areas={areas} steps={steps} kinds={kinds}")
        blocks, coords = [], {k: [] for k in NEUROID_COORDS}
        for area, step in pairs:
            layer = _layer_array(handle, area, step)
            values = layer.values.reshape(len(layer.stimulus), -1)
            blocks.append(values)
            for key, column in _neuroid_coords(layer, values.shape[1]).items():
                coords[key].append(column)
        attrs = {k: (v if not isinstance(v, np.generic) else v.item()) for k, v in handle.attrs.items()}
        ids = stored_ids(handle)
    return xr.DataArray(
        np.concatenate(blocks, axis=1),
        dims=("stimulus", "neuroid"),
        coords={"stimulus": ids, **{k: ("neuroid", np.concatenate(v)) for k, v in coords.items()}},
        attrs=attrs,
        name="features",
    )
