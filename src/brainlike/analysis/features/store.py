"""The HDF5 schema of a features file, the checks before resuming one, and the writer that fills it.

    /stimulus_id                 (N,) strings, in extraction order
    /features/{area}/t{step}     (N, C) when pooled, (N, C, H, W) otherwise; chunked, gzip
                                 attrs: layer (Brain-Score name), area, step, time_bin_ms, image_dependent,
                                 kind, stream, module
    root attrs                   format, model, model_config, weights_sha256, card (JSON), pool, precision,
                                 layers, weights, rows_total, rows_done, skipped (ids of unreadable images)

`{area}` is the source of the activation, the same coordinate whatever its kind: an area of the card ("V4";
kind "area"), one stream of a two-stream area when streams were asked for ("V4.td"; stream "td"), a module
path ("layer3.1.conv2"; kind "layer", step k = its k-th call in the forward pass), or the readouts' logits
("readout"; kind "readout", step k = readout step k). `layers` lists [area, step, kind, module] in extraction
order, so extractions of other module paths under the same names (another commitment) are told apart.

Rows are written in stimulus order and `rows_done` only moves after the rows before it are on disk, so
an interrupted extraction resumes at `rows_done` without losing or duplicating rows.
"""

from __future__ import annotations

import json
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import h5py
import numpy as np

from brainlike.errors import BrainlikeError
from brainlike.recording import ALL_STREAMS, READOUT, area_streams, chosen_steps, layer_name
from brainlike.registry import Area, ModelCard, TimeBin
from brainlike.reports import to_jsonable

FORMAT = "brainlike-features/1"
CHUNK_BYTES = 4 << 20
WRITE_QUEUE_BATCHES = 2
# The root attributes that make two extractions the same: compared before resuming and before merging.
SETTINGS = ("model", "model_config", "weights_sha256", "pool", "precision", "layers")
_COMPRESSION = {"compression": "gzip", "compression_opts": 1, "shuffle": True}


def dataset_key(area: str, step: int) -> str:
    return f"features/{area}/t{step}"


@dataclass(frozen=True)
class Layer:
    """One (area, step) of an extraction, where `area` is the source coordinate of the file (see above).

    `read` is the key of `record()`'s result that holds it and `position` its index in that key's list;
    `module` the module path whose output it is (an area's tap); `card_area` the card's area it belongs to."""

    area: str
    step: int
    kind: str = "area"
    module: str = ""
    stream: str = ""
    time_bin: TimeBin | None = None
    image_dependent: bool = True
    read: str = ""
    position: int = 0
    card_area: str = ""

    @property
    def key(self) -> str:
        return dataset_key(self.area, self.step)

    @property
    def name(self) -> str:
        return layer_name(self.area, self.step)


def _area_layers(area: Area, steps: Sequence[int] | None, stream: str | None) -> list[Layer]:
    several = len(area.streams) > 1
    layers = []
    for s in area_streams(area, stream):
        source = f"{area.name}.{s}" if several and stream is not None else area.name
        read = f"{area.name}.{s}" if several and stream == ALL_STREAMS else area.name
        for position, t in enumerate(chosen_steps(area, steps)):
            layers.append(
                Layer(
                    source,
                    t,
                    module=area.taps[s],
                    stream=s,
                    time_bin=area.time_bins[t],
                    image_dependent=t not in area.silent_steps,
                    read=read,
                    position=position,
                    card_area=area.name,
                )
            )
    return layers


def _called_layers(source: str, kind: str, calls: int, steps: Sequence[int] | None) -> list[Layer]:
    """The kept calls of a module path (kind "layer") or the kept readout steps (kind "readout")."""
    kept = chosen_steps(Area(source, {}, (None,) * calls), steps)
    return [
        Layer(source, t, kind=kind, module=source if kind == "layer" else "", read=source, position=t) for t in kept
    ]


def plan_layers(
    card: ModelCard,
    areas: Iterable[str] | None,
    steps: Sequence[int] | None,
    *,
    stream: str | None = None,
    calls: Mapping[str, int] | None = None,
    readouts: int = 0,
) -> list[Layer]:
    """What an extraction stores: the steps of the chosen areas (all when `areas` is None, unless module
    paths or readouts are asked for without a `stream`), then each module path's kept calls (`calls`:
    path -> how often it runs per forward pass), then the kept readout steps (`readouts`: how many the
    model has). `steps` applies to all of them (negative indices count from the end)."""
    calls = dict(calls or {})
    chosen = []
    if areas is not None or stream is not None or not (calls or readouts):
        chosen = [card.area(a) for a in (areas if areas is not None else card.area_names)]
        if not chosen:
            raise BrainlikeError(
                f"no areas to extract: {card.name} commits none; read module paths with layers / --layers"
            )
    layers = [layer for area in chosen for layer in _area_layers(area, steps, stream)]
    for path, count in calls.items():
        layers += _called_layers(path, "layer", count, steps)
    if readouts:
        layers += _called_layers(READOUT, "readout", readouts, steps)
    twice = sorted({layer.name for layer in layers if sum(o.key == layer.key for o in layers) > 1})
    if twice:
        raise BrainlikeError(f"{', '.join(twice)} asked for twice (as an area, a module path or the readouts)")
    return layers


def stored_layers(handle: h5py.File) -> list[tuple[str, int]]:
    """(area, step) pairs of the file, in extraction order."""
    return [(entry[0], entry[1]) for entry in json.loads(handle.attrs["layers"])]


def stored_ids(handle: h5py.File) -> list[str]:
    return list(handle["stimulus_id"].asstr()[()])


def skipped(handle: h5py.File) -> list[str]:
    """The ids of stimuli that could not be read (their rows are NaN), in stimulus order."""
    return json.loads(handle.attrs.get("skipped", "[]"))


def note_skipped(handle: h5py.File, ids: Sequence[str]) -> None:
    """Add stimulus ids to the file's list of unreadable ones (a resumed batch may list one again)."""
    order = {stimulus: i for i, stimulus in enumerate(stored_ids(handle))}
    handle.attrs["skipped"] = json.dumps(sorted(set(skipped(handle)) | set(ids), key=order.__getitem__))


def new_file(path: Path, attrs: Mapping, ids: Sequence[str], *, rows_done: int) -> h5py.File:
    """A features file holding `attrs` and the stimulus ids, and no rows yet."""
    handle = h5py.File(path, "w")
    handle.attrs.update(attrs)
    handle.attrs["rows_total"] = len(ids)
    handle.attrs["rows_done"] = rows_done
    handle.create_dataset("stimulus_id", data=np.array(ids, dtype=object), dtype=h5py.string_dtype())
    return handle


def new_layer_dataset(
    handle: h5py.File, key: str, shape: tuple[int, ...], chunks: tuple[int, ...], dtype, attrs: Mapping
) -> h5py.Dataset:
    dataset = handle.create_dataset(key, shape=shape, dtype=dtype, chunks=chunks, **_COMPRESSION)
    dataset.attrs.update(attrs)
    return dataset


def check_complete(handle: h5py.File, path) -> None:
    if handle.attrs.get("format") != FORMAT:
        raise BrainlikeError(f"{path} is not a brainlike features file")
    done, total = int(handle.attrs["rows_done"]), int(handle.attrs["rows_total"])
    if done < total:
        raise BrainlikeError(
            f"{path} is incomplete ({done} of {total} stimuli); run the same extraction again to resume it"
        )


def open_features(path: str | os.PathLike) -> h5py.File:
    """The HDF5 file of a complete extraction, opened read-only."""
    path = Path(path)
    if not path.is_file():
        raise BrainlikeError(f"no features file at {path}")
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise BrainlikeError(f"cannot open {path} as HDF5: {error}") from None
    try:
        check_complete(handle, path)
    except BrainlikeError:
        handle.close()
        raise
    return handle


# --------------------------------------------------------------------------------------- writing


def _settings(card: ModelCard, layers: list[Layer], pool: str, precision: str, digest: str) -> dict[str, str]:
    values = (
        card.name,
        json.dumps(to_jsonable(dict(card.config)), sort_keys=True),
        digest,
        pool,
        precision,
        json.dumps([[layer.area, layer.step, layer.kind, layer.module] for layer in layers]),
    )
    return dict(zip(SETTINGS, values))


def _is_complete(path: Path, ids: list[str], settings: dict[str, str]) -> bool:
    """Whether the existing file at `path` holds this extraction completely; refuses any other file."""
    try:
        with h5py.File(path, "r") as handle:
            same_format = handle.attrs.get("format") == FORMAT
            differs = [k for k, v in settings.items() if handle.attrs.get(k) != v] if same_format else []
            if same_format and stored_ids(handle) != ids:
                differs.append("stimuli")
            complete = same_format and handle.attrs["rows_done"] >= handle.attrs["rows_total"]
    except OSError as error:
        raise BrainlikeError(
            f"{path} exists but cannot be opened as HDF5 ({error}); delete it or extract with overwrite"
        ) from None
    if not same_format:
        raise BrainlikeError(f"{path} exists and is not a brainlike features file; choose another name")
    if differs:
        raise BrainlikeError(
            f"{path} holds a different extraction ({', '.join(differs)} differ); "
            "delete it, choose another name, or extract with overwrite"
        )
    return complete


def open_output(
    path: Path,
    ids: list[str],
    card: ModelCard,
    layers: list[Layer],
    pool: str,
    precision: str,
    weights: str,
    digest: str,
    overwrite: bool,
) -> h5py.File | None:
    """The file to write into, positioned by its `rows_done`; None when the same extraction is complete.
    `digest` is the sha256 of the weights the model holds, so a resume never mixes two networks."""
    settings = _settings(card, layers, pool, precision, digest)
    if path.exists() and not overwrite:
        return None if _is_complete(path, ids, settings) else h5py.File(path, "r+")
    path.parent.mkdir(parents=True, exist_ok=True)
    attrs = {"format": FORMAT, **settings, "card": json.dumps(to_jsonable(card)), "weights": weights}
    handle = new_file(path, attrs, ids, rows_done=0)
    handle.flush()
    return handle


def _chunk_rows(row_shape: tuple[int, ...], batch_size: int, rows: int) -> int:
    """The largest divisor of the batch size whose chunk stays under CHUNK_BYTES, so batches fill whole chunks."""
    row_bytes = 4 * int(np.prod(row_shape, dtype=np.int64))
    cap = max(1, min(rows, CHUNK_BYTES // max(row_bytes, 1)))
    return max(d for d in range(1, batch_size + 1) if batch_size % d == 0 and d <= cap)


def layer_dataset(handle: h5py.File, layer: Layer, row_shape: tuple[int, ...], batch_size: int) -> h5py.Dataset:
    """The dataset of `layer`, created on its first batch (the row shape is known only then)."""
    if layer.key in handle:
        dataset = handle[layer.key]
        if dataset.shape[1:] != row_shape:
            raise BrainlikeError(
                f"{layer.name}: the file holds rows of shape {dataset.shape[1:]}, the model gives {row_shape}"
            )
        return dataset
    rows = int(handle.attrs["rows_total"])
    bin_ms = layer.time_bin
    attrs = {
        "layer": layer.name,
        "area": layer.area,
        "step": layer.step,
        "time_bin_ms": np.array(bin_ms if bin_ms is not None else (np.nan, np.nan), dtype=float),
        "image_dependent": layer.image_dependent,
        "kind": layer.kind,
        "stream": layer.stream,
        "module": layer.module,
    }
    chunks = (_chunk_rows(row_shape, batch_size, rows), *row_shape)
    return new_layer_dataset(handle, layer.key, (rows, *row_shape), chunks, "float32", attrs)


class Writer(threading.Thread):
    """Writes batches in order; `rows_done` moves only after the rows are flushed.

    In the background on its own thread when a core is free; otherwise inline in `put`: h5py holds the
    GIL while it writes, so a writer thread beside a CPU forward stalls the main thread between
    operations (bench/MEASUREMENTS.md, "Feature extraction memory").
    """

    def __init__(self, handle: h5py.File, layers: list[Layer], batch_size: int, *, background: bool):
        super().__init__(daemon=True, name="brainlike-feature-writer")
        self.handle, self.layers, self.batch_size, self.background = handle, layers, batch_size, background
        self.jobs: queue.Queue = queue.Queue(maxsize=WRITE_QUEUE_BATCHES)
        self.error: BaseException | None = None
        if background:
            self.start()

    def run(self) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                if self.error is None:
                    self._write(*job)
            except BaseException as error:  # handed to the main thread, which re-raises it
                self.error = error
            finally:
                self.jobs.task_done()

    def _write(self, start: int, arrays: list[np.ndarray]) -> None:
        stop = start + len(arrays[0])
        for layer, array in zip(self.layers, arrays):
            layer_dataset(self.handle, layer, array.shape[1:], self.batch_size)[start:stop] = array
        self.handle.flush()
        self.handle.attrs["rows_done"] = stop
        self.handle.flush()

    def put(self, start: int, arrays: list[np.ndarray]) -> None:
        self.check()
        if self.background:
            self.jobs.put((start, arrays))
        else:
            self._write(start, arrays)

    def finish(self) -> None:
        if self.background:
            self.jobs.put(None)
            self.join()
        self.check()

    def check(self) -> None:
        if self.error is not None:
            raise self.error
