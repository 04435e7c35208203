"""Neural recordings: reading `.npz`, `.h5` and `.nc` files, and matching their stimuli to the features."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from brainlike.errors import BrainlikeError
from brainlike.registry import TimeBin


@dataclass(frozen=True)
class NeuralData:
    """Responses (repetition, stimulus, neuroid), with a last axis of time bins when `time_bins_ms` is
    given; one repetition when only averages were given."""

    stimulus_ids: list[str]
    responses: np.ndarray
    neuroid_ids: list[str]
    time_bins_ms: tuple[TimeBin, ...] = ()

    def __post_init__(self):
        r = self.responses
        if self.time_bins_ms:
            if r.ndim != 4 or r.shape[-1] != len(self.time_bins_ms):
                raise BrainlikeError(
                    f"time-binned neural responses must be (stimulus, neuroid, time_bin) or "
                    f"(repetition, stimulus, neuroid, time_bin) with {len(self.time_bins_ms)} "
                    f"time bins, got shape {r.shape}"
                )
        elif r.ndim != 3:
            raise BrainlikeError(
                f"neural responses must be (stimulus, neuroid) or (repetition, stimulus, "
                f"neuroid), got shape {r.shape} (time-binned data needs its time_bin_ms)"
            )
        if r.shape[1] != len(self.stimulus_ids):
            raise BrainlikeError(f"{len(self.stimulus_ids)} stimulus ids for {r.shape[1]} stimuli in the responses")
        if len(self.neuroid_ids) != r.shape[2]:
            raise BrainlikeError(f"{len(self.neuroid_ids)} neuroid ids for {r.shape[2]} neuroids")
        if len(set(self.stimulus_ids)) != len(self.stimulus_ids):
            raise BrainlikeError("neural stimulus ids must be unique (put repetitions on their own axis)")
        if not np.isfinite(r).all():
            raise BrainlikeError("neural responses contain NaN or infinite values")

    @property
    def mean(self) -> np.ndarray:
        return self.responses.mean(axis=0)

    @property
    def repetitions(self) -> int:
        return self.responses.shape[0]

    def reordered(self, order: Sequence[int]) -> NeuralData:
        """The same data with its stimuli in `order` (indices into the current order)."""
        order = np.asarray(order)
        ids = [self.stimulus_ids[i] for i in order]
        return NeuralData(ids, self.responses[:, order], self.neuroid_ids, self.time_bins_ms)

    def bins(self) -> list[tuple[TimeBin | None, NeuralData]]:
        """(time bin, responses in it) per time bin; one (None, self) for data without time bins."""
        if not self.time_bins_ms:
            return [(None, self)]
        return [
            (b, NeuralData(self.stimulus_ids, self.responses[..., k], self.neuroid_ids))
            for k, b in enumerate(self.time_bins_ms)
        ]


def _time_bins(time_bins_ms) -> tuple[TimeBin, ...]:
    if time_bins_ms is None:
        return ()
    bins = np.asarray(time_bins_ms, dtype=np.float64)
    if bins.ndim != 2 or bins.shape[1] != 2 or not len(bins):
        raise BrainlikeError(f"time bins must be a (bins, 2) array of (start_ms, end_ms), got shape {bins.shape}")
    if not (np.isfinite(bins).all() and (bins[:, 1] > bins[:, 0]).all()):
        raise BrainlikeError("every time bin needs finite start_ms < end_ms")
    return tuple((float(a), float(b)) for a, b in bins)


def neural_data(
    stimulus_ids: Sequence[str], responses, neuroid_ids: Sequence[str] | None = None, time_bins_ms=None
) -> NeuralData:
    """NeuralData from arrays: responses (stimulus, neuroid) or (repetition, stimulus, neuroid), each with a
    last time-bin axis when `time_bins_ms` ((bins, 2) start and end in ms) is given."""
    responses = np.asarray(responses, dtype=np.float64)
    bins = _time_bins(time_bins_ms)
    if responses.ndim == (3 if bins else 2):
        responses = responses[None]
    ids = [str(i) for i in stimulus_ids]
    if neuroid_ids is None:
        neuroid_ids = range(responses.shape[2]) if responses.ndim > 2 else ()
    return NeuralData(ids, responses, [str(i) for i in neuroid_ids], bins)


def _strings(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(values).ravel()]


def load_neural(path: str | Path) -> NeuralData:
    """Neural data from `.npz`, `.h5`/`.hdf5` or `.nc` (see `brainlike.analysis.neural` for the layout)."""
    path = Path(path)
    if not path.is_file():
        raise BrainlikeError(f"no neural data file at {path}")
    suffix = path.suffix.lower()
    if suffix == ".nc":
        return _load_netcdf(path)
    if suffix == ".npz":
        arrays = _read_npz(path)
    elif suffix in (".h5", ".hdf5"):
        import h5py

        with h5py.File(path, "r") as handle:
            arrays = {k: handle[k][()] for k in handle if isinstance(handle[k], h5py.Dataset)}
    else:
        raise BrainlikeError(f"neural data must be .npz, .h5 or .nc, not {path.name}")
    missing = [k for k in ("stimulus_id", "responses") if k not in arrays]
    if missing:
        raise BrainlikeError(f"{path} lacks {' and '.join(missing)}; it has {', '.join(sorted(arrays)) or 'nothing'}")
    neuroids = _strings(arrays["neuroid_id"]) if "neuroid_id" in arrays else None
    return neural_data(_strings(arrays["stimulus_id"]), arrays["responses"], neuroids, arrays.get("time_bin_ms"))


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz file, never unpickled: an object array (what pandas' `.values` gives for text) is
    refused with the line that saves it as text instead."""
    import zipfile

    arrays = {}
    try:
        with np.load(path, allow_pickle=False) as archive:
            for key in archive.files:
                try:
                    arrays[key] = archive[key]
                except ValueError:  # numpy: "Object arrays cannot be loaded when allow_pickle=False"
                    raise BrainlikeError(
                        f"{path}: {key!r} is an array of Python objects (what pandas writes), which brainlike does "
                        f"not unpickle; save it as text: np.savez(..., {key}=np.asarray({key}).astype(str))"
                    ) from None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise BrainlikeError(f"{path} is not a readable .npz file ({error})") from None
    return arrays


def _load_netcdf(path: Path) -> NeuralData:
    import xarray as xr

    try:
        array = xr.load_dataarray(path)
    except (ValueError, OSError) as error:
        raise BrainlikeError(f"cannot read {path} as one xarray DataArray: {error}") from None
    if "presentation" in array.dims:
        array = _by_stimulus(array, path)
    extra = set(array.dims) - {"stimulus", "neuroid", "repetition", "time_bin"}
    if {"stimulus", "neuroid"} - set(array.dims) or extra:
        raise BrainlikeError(
            f"{path} must have dims stimulus, neuroid and optionally repetition and time_bin; "
            f"it has {', '.join(map(str, array.dims))}"
        )
    order = [d for d in ("repetition", "stimulus", "neuroid", "time_bin") if d in array.dims]
    array = array.transpose(*order)
    bins = None
    if "time_bin" in array.dims:
        if not {"time_bin_start", "time_bin_end"} <= set(array.coords):
            raise BrainlikeError(f"{path} has a time_bin dim but no time_bin_start and time_bin_end coordinates")
        bins = np.stack([array["time_bin_start"].values, array["time_bin_end"].values], axis=1)
    ids = array["stimulus_id"].values if "stimulus_id" in array.coords else array["stimulus"].values
    neuroids = array["neuroid"].values if "neuroid" in array.coords else None
    return neural_data(_strings(ids), array.values, None if neuroids is None else _strings(neuroids), bins)


def match_stimuli(feature_ids: Sequence[str], neural_ids: Sequence[str]) -> np.ndarray:
    """Row of each neural stimulus in the features; every neural id must be among the feature ids."""
    where = {s: i for i, s in enumerate(feature_ids)}
    missing = [s for s in neural_ids if s not in where]
    if missing:
        raise BrainlikeError(
            f"{len(missing)} of {len(neural_ids)} neural stimulus ids are not in the features "
            f"(e.g. {missing[0]!r}; feature ids look like {feature_ids[0]!r}); the ids must match exactly"
        )
    return np.array([where[s] for s in neural_ids])


def _by_stimulus(array, path: Path):
    """BrainIO's layout (presentation x neuroid [x time_bin]: one presentation per trial, stimulus_id and
    optionally repetition on `presentation`, MultiIndex levels stored as plain coordinates, as
    brainio's write_netcdf leaves them) as (repetition, stimulus, neuroid [, time_bin])."""
    import xarray as xr

    if "stimulus_id" not in array.coords and "image_id" in array.coords:  # BrainIO's name before 2023
        array = array.rename(image_id="stimulus_id")
    if "stimulus_id" not in array.coords or array["stimulus_id"].dims != ("presentation",):
        raise BrainlikeError(f"{path} has a presentation dim but no stimulus_id coordinate on it")
    ids = _strings(array["stimulus_id"].values)
    counts = Counter(ids)
    if len(set(counts.values())) != 1:
        raise BrainlikeError(
            f"{path}: stimuli are presented {min(counts.values())} to {max(counts.values())} times; "
            "give every stimulus the same number of presentations (or average them)"
        )
    stimuli = list(counts)  # in order of first presentation
    column = {stimulus: k for k, stimulus in enumerate(stimuli)}
    order = range(len(ids))
    if "repetition" in array.coords:  # the k-th repetition of every stimulus is repetition k
        order = sorted(order, key=lambda p: array["repetition"].values[p])
    index = np.empty((counts[stimuli[0]], len(stimuli)), dtype=int)
    seen = Counter()
    for p in order:
        index[seen[ids[p]], column[ids[p]]] = p
        seen[ids[p]] += 1
    rest = [d for d in ("neuroid", "time_bin") if d in array.dims]
    values = array.transpose("presentation", *rest).values[index]
    neuroids = array["neuroid_id"].values if "neuroid_id" in array.coords else np.arange(array.sizes["neuroid"])
    coords = {"stimulus_id": ("stimulus", stimuli), "neuroid": _strings(neuroids)}
    for name in ("time_bin_start", "time_bin_end"):
        if name in array.coords:
            coords[name] = ("time_bin", array[name].values)
    return xr.DataArray(values, dims=("repetition", "stimulus", *rest), coords=coords)
