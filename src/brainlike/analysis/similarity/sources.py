"""The feature sets that are compared: a features file from `brainlike extract`, or arrays in memory.

A feature set is the layers of one model over the same stimuli. Its layers are read one block of
columns at a time, so a comparison never holds a whole (stimulus x feature) layer in memory; the
stimuli of two sets are matched by id.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brainlike.errors import BrainlikeError
from brainlike.recording import layer_name

BLOCK_BYTES = 128 << 20  # the most bytes of features read at a time


@dataclass(frozen=True)
class LayerKey:
    """One (area, step) of a features file, or one named layer (step None) of arrays given in memory."""

    area: str
    step: int | None = None

    @property
    def name(self) -> str:
        return self.area if self.step is None else layer_name(self.area, self.step)


def is_features_file(path: str | os.PathLike) -> bool:
    """Whether `path` is an HDF5 file written by `brainlike extract` (complete or not)."""
    from brainlike.analysis.features.store import FORMAT

    path = Path(path)
    if path.suffix.lower() not in (".h5", ".hdf5") or not path.is_file():
        return False
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            return handle.attrs.get("format") == FORMAT
    except OSError:
        return False


def _layer_key(key) -> LayerKey:
    if isinstance(key, LayerKey):
        return key
    if isinstance(key, str):
        return LayerKey(key)
    if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str):
        return LayerKey(key[0], int(key[1]))
    raise BrainlikeError(f"a layer is named by a string or an (area, step) pair, not {key!r}")


class FeatureSet:
    """The layers of one model over the same stimuli.

    source: the path of a features file, or a mapping from layer (a name, or an (area, step) pair) to an
    array-like of shape (stimulus, ...) (numpy arrays, memory maps and h5py datasets are read in blocks).
    stimulus_ids: the ids of the rows of the arrays (default "0", "1", ...); a file brings its own.
    """

    def __init__(self, source, *, label: str | None = None, stimulus_ids: Sequence[str] | None = None):
        self.rows: np.ndarray | None = None  # the rows of the source this set reads (None: all), see subset()
        if isinstance(source, (str, os.PathLike)):
            from brainlike.analysis.features import feature_layers
            from brainlike.analysis.features import stimulus_ids as file_ids

            self.path, self.arrays = Path(source), None
            self.layers = [LayerKey(a, t) for a, t in feature_layers(self.path)]
            self.ids = file_ids(self.path)
            self.label = label or self.path.stem
            return
        if not isinstance(source, Mapping) or not source:
            raise BrainlikeError("features must be a features file or a non-empty mapping of layer -> array")
        self.path = None
        self.arrays = {_layer_key(k): v for k, v in source.items()}
        self.layers = list(self.arrays)
        rows = {len(v) for v in self.arrays.values()}
        if len(rows) != 1:
            raise BrainlikeError(f"the layers of one feature set must have the same stimuli; row counts {sorted(rows)}")
        n = rows.pop()
        self.ids = [str(i) for i in (stimulus_ids if stimulus_ids is not None else range(n))]
        if len(self.ids) != n or len(set(self.ids)) != n:
            raise BrainlikeError(f"{len(self.ids)} stimulus ids (they must be unique) for {n} rows")
        self.label = label or "features"

    def subset(self, ids: Sequence[str]) -> FeatureSet:
        """The same layers over the stimuli `ids` only (in that order)."""
        where = {s: i for i, s in enumerate(self.ids)}
        missing = [s for s in ids if s not in where]
        if missing:
            raise BrainlikeError(f"{self.label} has no stimulus {missing[0]!r}")
        chosen = np.array([where[s] for s in ids], dtype=np.int64)
        subset = copy.copy(self)
        subset.ids = list(ids)
        subset.rows = chosen if self.rows is None else self.rows[chosen]
        return subset

    def __len__(self) -> int:
        return len(self.ids)

    def select(self, layers: Sequence | None) -> list[LayerKey]:
        """The layers named in `layers` (names, (area, step) pairs or area names), all when None."""
        if layers is None:
            return list(self.layers)
        chosen = []
        for wanted in layers:
            hits = [k for k in self.layers if wanted in (k.name, k.area) or _layer_key(wanted) == k]
            if not hits:
                raise BrainlikeError(
                    f"{self.label} has no layer {wanted!r}; it has {', '.join(k.name for k in self.layers)}"
                )
            chosen += [k for k in hits if k not in chosen]
        return chosen

    @contextmanager
    def _open(self, key: LayerKey):
        """The array-like of one layer, open while the block runs."""
        if self.arrays is not None:
            yield self.arrays[key]
            return
        from brainlike.analysis.features.store import dataset_key, open_features

        with open_features(self.path) as handle:
            yield handle[dataset_key(key.area, key.step)]

    def features(self, key: LayerKey) -> int:
        """The number of features (units) of a layer."""
        with self._open(key) as array:
            return int(np.prod(array.shape[1:], dtype=np.int64))

    def blocks(self, key: LayerKey, rows: np.ndarray, *, block_bytes: int | None = None) -> Iterator[np.ndarray]:
        """The layer's features of the stimuli `rows`, as (len(rows), k) blocks of columns; each block is a new
        array that the caller may change in place."""
        rows = np.asarray(rows, dtype=np.int64) if self.rows is None else self.rows[rows]
        with self._open(key) as array:
            shape = array.shape
            if len(shape) < 2:
                raise BrainlikeError(f"{self.label} {key.name}: features must be (stimulus, ...), got shape {shape}")
            per_slice = int(np.prod(shape[2:], dtype=np.int64)) * shape[0] * 4
            step = max(1, (block_bytes or BLOCK_BYTES) // max(per_slice, 1))
            chunks = getattr(array, "chunks", None)  # h5py: blocks of whole chunks read each chunk once
            if chunks and chunks[1] < shape[1]:
                step = max(chunks[1], step // chunks[1] * chunks[1])
            everything = len(rows) == shape[0] and np.array_equal(rows, np.arange(shape[0]))
            for lo in range(0, shape[1], step):
                part = array[:, lo : lo + step]
                # h5py reads into a new array; a slice of an array in memory is a view of the caller's data
                fresh = isinstance(part, np.ndarray) and part.base is None
                part = np.asarray(part)
                if not everything:
                    part, fresh = part[rows], True
                part = part.reshape(len(rows), -1)
                part = part if fresh else part.copy()
                if not np.isfinite(part).all():
                    raise BrainlikeError(f"{self.label} {key.name} has NaN or infinite features")
                yield part

    def array(self, key: LayerKey, rows: np.ndarray) -> np.ndarray:
        """The layer's features of the stimuli `rows` as one (len(rows), features) array."""
        return np.concatenate(list(self.blocks(key, rows)), axis=1)

    def time_bin(self, key: LayerKey) -> tuple[float, float] | None:
        """The time bin (ms) the model commits the layer to, where the file records one."""
        if self.path is None:
            return None
        with self._open(key) as dataset:
            start, end = (float(v) for v in dataset.attrs["time_bin_ms"])
        return None if np.isnan(start) else (start, end)


def match_ids(a: FeatureSet, b: FeatureSet) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(rows of a, rows of b, ids) of the stimuli both hold: the stimuli of one set must all be in the other."""
    where_a = {s: i for i, s in enumerate(a.ids)}
    where_b = {s: i for i, s in enumerate(b.ids)}
    if all(s in where_a for s in b.ids):
        ids = list(b.ids)
    elif all(s in where_b for s in a.ids):
        ids = list(a.ids)
    else:
        missing = [s for s in b.ids if s not in where_a]
        raise BrainlikeError(
            f"{len(missing)} of {len(b.ids)} stimulus ids of {b.label} are not in {a.label} "
            f"(e.g. {missing[0]!r}; {a.label} ids look like {a.ids[0]!r}), and {a.label} has ids "
            f"{b.label} lacks; the ids must match exactly"
        )
    return np.array([where_a[s] for s in ids]), np.array([where_b[s] for s in ids]), ids
