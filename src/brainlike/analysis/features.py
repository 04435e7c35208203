"""Per-area, per-time-step features of many images, streamed to HDF5 and read back as xarray.

File layout (one file per extraction):

    /stimulus_id                 (N,) strings, in extraction order
    /features/{area}/t{step}     (N, C) when pooled, (N, C, H, W) otherwise; chunked, gzip
                                 attrs: layer (Brain-Score name), area, step, time_bin_ms, image_dependent
    root attrs                   model, card (JSON), pool, precision, areas, steps, rows_total, rows_done

Rows are written in stimulus order and `rows_done` only moves after the rows before it are on disk, so
an interrupted extraction resumes at `rows_done` without losing or duplicating rows. Images are decoded
and transformed by a DataLoader and written by a background thread, so both overlap the forward pass;
a bounded queue keeps memory flat however many images there are.
"""

from __future__ import annotations

import json
import os
import queue
import threading
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Iterable, Sequence

import h5py
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset, get_worker_info

from brainlike.errors import BrainlikeError
from brainlike.recording import card_of, check_pool, chosen_steps, image_layout, layer_name, record
from brainlike.registry import Area, ModelCard, create_model
from brainlike.report import to_jsonable
from brainlike.transforms import geometry, load_image, normalize

FORMAT = "brainlike-features/1"
PRECISIONS = ("fp32", "bf16")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
CHUNK_BYTES = 4 << 20
WRITE_QUEUE_BATCHES = 2


# --------------------------------------------------------------------------------------- stimuli


def list_stimuli(stimuli: str | os.PathLike | Sequence[str | os.PathLike]) -> tuple[list[str], list[Path]]:
    """(ids, paths) of the images to extract.

    A folder is searched recursively and sorted; ids are the paths relative to it. A text file lists
    one path per line (blank lines and lines starting with '#' are skipped; relative paths are relative
    to the text file); ids are the lines as written. A sequence of paths uses the paths as ids.
    """
    if isinstance(stimuli, (str, os.PathLike)):
        source = Path(stimuli)
        if source.is_dir():
            paths = sorted(
                (p for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
                key=lambda p: p.relative_to(source).as_posix(),
            )
            ids = [p.relative_to(source).as_posix() for p in paths]
            if not paths:
                raise BrainlikeError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) under {source}")
        elif source.is_file():
            lines = [line.strip() for line in source.read_text().splitlines()]
            ids = [line for line in lines if line and not line.startswith("#")]
            paths = [Path(i) if Path(i).is_absolute() else source.parent / i for i in ids]
        else:
            raise BrainlikeError(f"{source} is neither a folder of images nor a text file of image paths")
    else:
        ids = [str(p) for p in stimuli]
        paths = [Path(p) for p in stimuli]
    if not ids:
        raise BrainlikeError("no stimuli given")
    if len(set(ids)) != len(ids):
        twice = [i for i, n in Counter(ids).items() if n > 1]
        raise BrainlikeError(f"stimulus ids must be unique; repeated: {', '.join(twice[:5])}")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise BrainlikeError(f"{len(missing)} image file(s) not found, e.g. {missing[0]}")
    return ids, paths


class ImageFiles(Dataset):
    """Decoded images resized and cropped for the model, as uint8 (normalised per batch by the reader:
    a quarter of the bytes between processes, and one pass per batch); a file that cannot be read comes
    back as an error message."""

    def __init__(self, paths: Sequence[Path], preset: str, size: int, start: int = 0):
        self.paths, self.start, self.size = list(paths), start, size
        self.transform = geometry(preset, size)  # a partial of a module function: pickles to workers

    def __len__(self) -> int:
        return len(self.paths) - self.start

    def __getitem__(self, index: int):
        try:
            return self.transform(load_image(self.paths[self.start + index])), ""
        except BrainlikeError as error:
            return torch.zeros(3, self.size, self.size, dtype=torch.uint8), str(error)


def collate_images(items: list[tuple[torch.Tensor, str]], memory_format: torch.memory_format = torch.contiguous_format):
    """Stack decoded images into one uint8 batch in `memory_format` (channels-last copies PIL's pixel order
    as is), in shared memory when built in a worker process, as PyTorch's default collate does."""
    images, errors = zip(*items)
    batch = torch.empty((len(images), *images[0].shape), dtype=torch.uint8, memory_format=memory_format)
    if get_worker_info() is not None:
        batch.share_memory_()
    for row, image in zip(batch, images):
        row.copy_(image)
    return batch, list(errors)


# --------------------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class Layer:
    """One (area, step) of an extraction."""

    area: Area
    step: int

    @property
    def key(self) -> str:
        return f"features/{self.area.name}/t{self.step}"

    @property
    def name(self) -> str:
        return layer_name(self.area.name, self.step)

    @property
    def time_bin(self):
        return self.area.time_bins[self.step]


def plan_layers(card: ModelCard, areas: Iterable[str] | None, steps: Sequence[int] | None) -> list[Layer]:
    chosen = [card.area(a) for a in (areas if areas is not None else card.area_names)]
    if not chosen:
        raise BrainlikeError("no areas to extract")
    return [Layer(area, t) for area in chosen for t in chosen_steps(area, steps)]


# --------------------------------------------------------------------------------------- writing


def _chunk_rows(row_shape: tuple[int, ...], batch_size: int, rows: int) -> int:
    """The largest divisor of the batch size whose chunk stays under CHUNK_BYTES, so batches fill whole chunks."""
    row_bytes = 4 * int(np.prod(row_shape, dtype=np.int64))
    cap = max(1, min(rows, CHUNK_BYTES // max(row_bytes, 1)))
    return max(d for d in range(1, batch_size + 1) if batch_size % d == 0 and d <= cap)


def _settings(card: ModelCard, layers: list[Layer], pool: str, precision: str) -> dict[str, str]:
    """What makes two extractions the same; compared before resuming."""
    return {
        "model": card.name,
        "model_config": json.dumps(to_jsonable(dict(card.config)), sort_keys=True),
        "pool": pool,
        "precision": precision,
        "layers": json.dumps([[layer.area.name, layer.step] for layer in layers]),
    }


def _open_output(
    path: Path,
    ids: list[str],
    card: ModelCard,
    layers: list[Layer],
    pool: str,
    precision: str,
    weights: str,
    overwrite: bool,
) -> h5py.File | None:
    """The file to write into, positioned by its `rows_done`; None when the same extraction is complete."""
    settings = _settings(card, layers, pool, precision)
    if path.exists() and not overwrite:
        try:
            with h5py.File(path, "r") as handle:
                same_format = handle.attrs.get("format") == FORMAT
                differs = [k for k, v in settings.items() if handle.attrs.get(k) != v] if same_format else []
                if same_format and list(handle["stimulus_id"].asstr()[()]) != ids:
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
        return None if complete else h5py.File(path, "r+")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = h5py.File(path, "w")
    handle.attrs["format"] = FORMAT
    for key, value in settings.items():
        handle.attrs[key] = value
    handle.attrs["card"] = json.dumps(to_jsonable(card))
    handle.attrs["weights"] = weights
    handle.attrs["rows_total"] = len(ids)
    handle.attrs["rows_done"] = 0
    handle.create_dataset("stimulus_id", data=np.array(ids, dtype=object), dtype=h5py.string_dtype())
    handle.flush()
    return handle


def _dataset(handle: h5py.File, layer: Layer, row_shape: tuple[int, ...], batch_size: int) -> h5py.Dataset:
    if layer.key in handle:
        dataset = handle[layer.key]
        if dataset.shape[1:] != row_shape:
            raise BrainlikeError(
                f"{layer.name}: the file holds rows of shape {dataset.shape[1:]}, the model gives {row_shape}"
            )
        return dataset
    rows = int(handle.attrs["rows_total"])
    dataset = handle.create_dataset(
        layer.key,
        shape=(rows, *row_shape),
        dtype="float32",
        chunks=(_chunk_rows(row_shape, batch_size, rows), *row_shape),
        compression="gzip",
        compression_opts=1,
        shuffle=True,
    )
    bin_ms = layer.time_bin
    dataset.attrs["layer"] = layer.name
    dataset.attrs["area"] = layer.area.name
    dataset.attrs["step"] = layer.step
    dataset.attrs["time_bin_ms"] = np.array(bin_ms if bin_ms is not None else (np.nan, np.nan), dtype=float)
    dataset.attrs["image_dependent"] = layer.step not in layer.area.silent_steps
    return dataset


class _Writer(threading.Thread):
    """Writes batches in order; `rows_done` moves only after the rows are flushed.

    In the background on its own thread when a core is free; otherwise inline in `put`: h5py holds the
    GIL while it writes, so a writer thread beside a CPU forward stalls the main thread between
    operations (CORnet-Z, 2 cores: ~4 ms of writing per batch cost 12-37 ms of forward).
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
            _dataset(self.handle, layer, array.shape[1:], self.batch_size)[start:stop] = array
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


# --------------------------------------------------------------------------------------- extraction


def spare_cores(device: str = "cpu") -> int:
    """The cores the model's compute threads leave free (on a GPU one thread feeds the device)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    busy = torch.get_num_threads() if torch.device(device).type == "cpu" else 1
    return max(0, cores - busy)


def decode_workers(device: str = "cpu") -> int:
    """Decoding processes that can run beside the model: the spare cores, at most 8. With none to spare,
    decoding in the main process costs less than a worker competing with the compute threads
    (CORnet-Z, 2 cores: 0.89-0.94 of the pure forward inline, 0.86-0.88 with one worker)."""
    return min(8, spare_cores(device))


def distributed_rank() -> tuple[int, int]:
    """(rank, world size) when launched by torchrun, else (0, 1)."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def extract_features(
    model: str | nn.Module,
    stimuli: str | os.PathLike | Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    areas: Iterable[str] | None = None,
    steps: Sequence[int] | None = None,
    pool: str = "avg",
    batch_size: int = 32,
    workers: int | None = None,
    pretrained: bool | str = False,
    precision: str = "fp32",
    device: str = "cpu",
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Extract features of every stimulus to the HDF5 file `output` and return its path.

    model: a registered name (built with `pretrained`) or a model from `create_model`. An existing
    file from the same extraction is resumed where it stopped; one from a different extraction is
    refused unless `overwrite`. workers: image decoding processes; None picks `decode_workers(device)`.
    Under torchrun each rank extracts a contiguous shard and rank 0 merges.
    Memory does not grow with the number of stimuli (CORnet-Z, batch 16: peak 949 MiB after 1,000
    images, 955 MiB after 10,000). Should glibc's allocator fragment on another system, a fixed mmap
    threshold (`MALLOC_MMAP_THRESHOLD_=4194304` in the environment) holds it flat for 5-7 % of speed.
    """
    check_pool(pool)
    if precision not in PRECISIONS:
        raise BrainlikeError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if batch_size < 1 or (workers is not None and workers < 0):
        raise BrainlikeError("batch size must be >= 1 and workers >= 0")
    ids, paths = list_stimuli(stimuli)
    rank, world = distributed_rank()
    if world > len(ids):
        raise BrainlikeError(f"{world} ranks for {len(ids)} stimuli: every rank needs at least one")
    if world > 1 and device == "cuda":
        device = f"cuda:{os.environ.get('LOCAL_RANK', rank)}"
    weights = f"pretrained={pretrained}" if isinstance(model, str) else "given model"
    if isinstance(model, str):
        model = create_model(model, pretrained=pretrained)
    if world > 1:
        _share_weights(model)
    model = model.to(device)  # record() switches to eval mode and back
    card = card_of(model)
    layers = plan_layers(card, areas, steps)
    output = Path(output)
    workers = decode_workers(device) if workers is None else workers
    options = dict(
        requested_steps=steps,
        pool=pool,
        batch_size=batch_size,
        workers=workers,
        precision=precision,
        device=device,
        weights=weights,
        overwrite=overwrite,
        progress=progress,
    )
    if world == 1:
        _extract(model, card, layers, ids, paths, output, **options)
        return output
    lo, hi = len(ids) * rank // world, len(ids) * (rank + 1) // world
    shards = [output.with_name(f"{output.name}.rank{r}-of-{world}") for r in range(world)]
    _extract(model, card, layers, ids[lo:hi], paths[lo:hi], shards[rank], **options)
    _barrier()
    if rank == 0:
        merge_features(shards, output, overwrite=True)
        for shard in shards:
            shard.unlink()
    _barrier()
    return output


def _process_group():
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return dist


def _barrier() -> None:
    _process_group().barrier()


def _share_weights(model: nn.Module) -> None:
    """Give every rank rank 0's parameters and buffers, so that shards of randomly initialised
    models (or of models built differently per process) come from one and the same network."""
    dist = _process_group()
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            shared = tensor.detach().cpu().contiguous()
            dist.broadcast(shared, src=0)
            tensor.copy_(shared)


def _extract(
    model,
    card,
    layers,
    ids,
    paths,
    output,
    *,
    requested_steps,
    pool,
    batch_size,
    workers,
    precision,
    device,
    weights,
    overwrite,
    progress,
) -> None:
    from tqdm import tqdm

    handle = _open_output(output, ids, card, layers, pool, precision, weights, overwrite)
    if handle is None:
        return
    with handle:
        start = int(handle.attrs["rows_done"])
        memory_format = image_layout(device)  # decode straight into the layout record() runs in
        collate = partial(collate_images, memory_format=memory_format)
        loader = DataLoader(
            ImageFiles(paths, card.preprocessing, card.input_size, start),
            batch_size=batch_size,
            num_workers=workers,
            collate_fn=collate,
            pin_memory=torch.device(device).type == "cuda",
            persistent_workers=False,
        )
        writer = _Writer(handle, layers, batch_size, background=spare_cores(device) > 0)
        area_names = list(dict.fromkeys(layer.area.name for layer in layers))
        # record() returns the kept steps of each area in order; where each layer sits in that list:
        position = {
            (layer.area.name, layer.step): i
            for name in area_names
            for i, layer in enumerate(l for l in layers if l.area.name == name)
        }
        row, pixels = start, None
        try:
            with tqdm(total=len(ids), initial=start, unit="img", disable=not progress, desc=output.name) as bar:
                for x, errors in loader:
                    bad = [(i, e) for i, e in enumerate(errors) if e]
                    if bad:
                        raise BrainlikeError(bad[0][1])
                    if pixels is None:  # one buffer for all batches: the model keeps no reference to its input
                        pixels = torch.empty(x.shape, device=device, memory_format=memory_format)
                    x = normalize(x.to(device, non_blocking=True), card.preprocessing, out=pixels[: len(x)])
                    recorded = record(model, x, areas=area_names, steps=requested_steps, precision=precision, pool=pool)
                    arrays = [
                        recorded[layer.area.name][position[layer.area.name, layer.step]].cpu().numpy()
                        for layer in layers
                    ]
                    writer.put(row, arrays)
                    row += len(x)
                    bar.update(len(x))
        finally:
            writer.finish()


def merge_features(parts: Sequence[str | os.PathLike], output: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Concatenate complete feature files of the same extraction (shards, in order) into one file."""
    parts, output = [Path(p) for p in parts], Path(output)
    if output.exists() and not overwrite:
        raise BrainlikeError(f"{output} exists; choose another name or merge with overwrite")
    handles = [h5py.File(p, "r") for p in parts]
    try:
        first = handles[0]
        for part, handle in zip(parts, handles):
            _check_complete(handle, part)
            if any(handle.attrs[k] != first.attrs[k] for k in ("model", "model_config", "pool", "precision", "layers")):
                raise BrainlikeError(f"{part} comes from a different extraction than {parts[0]}")
        ids = [s for h in handles for s in h["stimulus_id"].asstr()[()]]
        with h5py.File(output, "w") as merged:
            for key, value in first.attrs.items():
                merged.attrs[key] = value
            merged.attrs["rows_total"] = merged.attrs["rows_done"] = len(ids)
            merged.create_dataset("stimulus_id", data=np.array(ids, dtype=object), dtype=h5py.string_dtype())
            for key in _dataset_keys(first):
                source = first[key]
                target = merged.create_dataset(
                    key,
                    shape=(len(ids), *source.shape[1:]),
                    dtype=source.dtype,
                    chunks=source.chunks,
                    compression="gzip",
                    compression_opts=1,
                    shuffle=True,
                )
                for name, value in source.attrs.items():
                    target.attrs[name] = value
                row = 0
                for handle in handles:
                    part = handle[key]
                    for lo in range(0, len(part), 256):
                        block = part[lo : lo + 256]
                        target[row : row + len(block)] = block
                        row += len(block)
    finally:
        for handle in handles:
            handle.close()
    return output


# --------------------------------------------------------------------------------------- reading


def _dataset_keys(handle: h5py.File) -> list[str]:
    return [f"features/{area}/t{step}" for area, step in json.loads(handle.attrs["layers"])]


def _check_complete(handle: h5py.File, path) -> None:
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
        _check_complete(handle, path)
    except BrainlikeError:
        handle.close()
        raise
    return handle


def feature_layers(path: str | os.PathLike) -> list[tuple[str, int]]:
    """(area, step) pairs stored in a features file, in extraction order."""
    with open_features(path) as handle:
        return [tuple(pair) for pair in json.loads(handle.attrs["layers"])]


def stimulus_ids(path: str | os.PathLike) -> list[str]:
    with open_features(path) as handle:
        return list(handle["stimulus_id"].asstr()[()])


def _layer_array(handle: h5py.File, area: str, step: int):
    import xarray as xr

    key = f"features/{area}/t{step}"
    if key not in handle:
        raise BrainlikeError(
            f"the file has no features for {layer_name(area, step)}; "
            f"it has {', '.join(layer_name(a, t) for a, t in json.loads(handle.attrs['layers']))}"
        )
    dataset = handle[key]
    values = dataset[()]
    start, end = (float(v) for v in dataset.attrs["time_bin_ms"])
    dims = ("stimulus", "channel", "y", "x")[: values.ndim]
    coords = {"stimulus": list(handle["stimulus_id"].asstr()[()]), "channel": np.arange(values.shape[1])}
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
        },
    )


def load_layer(path: str | os.PathLike, area: str, step: int):
    """One (area, step) as an xarray DataArray (stimulus, channel[, y, x])."""
    with open_features(path) as handle:
        return _layer_array(handle, area, step)


def load_features(path: str | os.PathLike, *, areas: Iterable[str] | None = None, steps: Iterable[int] | None = None):
    """The features as one xarray DataArray with dims (stimulus, neuroid).

    Each neuroid carries the coordinates layer, area, step, time_bin_ms (bin start; NaN for a step with
    no commitment), time_bin_end_ms, channel, y and x (y = x = -1 for spatially pooled features). The
    model card and the extraction settings are in `.attrs`.
    """
    import xarray as xr

    with open_features(path) as handle:
        pairs = [
            (a, t)
            for a, t in json.loads(handle.attrs["layers"])
            if (areas is None or a in set(areas)) and (steps is None or t in set(steps))
        ]
        if not pairs:
            raise BrainlikeError(f"no layers in {path} match areas={areas} steps={steps}")
        blocks, coords = (
            [],
            {k: [] for k in ("layer", "area", "step", "time_bin_ms", "time_bin_end_ms", "channel", "y", "x")},
        )
        for area, step in pairs:
            layer = _layer_array(handle, area, step)
            values = layer.values.reshape(len(layer.stimulus), -1)
            blocks.append(values)
            shape = layer.shape[1:]
            grid = np.indices(shape).reshape(len(shape), -1)
            size = values.shape[1]
            coords["layer"].append(np.full(size, layer.name, dtype=object))
            coords["area"].append(np.full(size, area, dtype=object))
            coords["step"].append(np.full(size, step))
            coords["time_bin_ms"].append(np.full(size, layer.attrs["time_bin_ms"][0]))
            coords["time_bin_end_ms"].append(np.full(size, layer.attrs["time_bin_ms"][1]))
            coords["channel"].append(grid[0])
            coords["y"].append(grid[1] if len(shape) > 1 else np.full(size, -1))
            coords["x"].append(grid[2] if len(shape) > 2 else np.full(size, -1))
        attrs = {k: (v if not isinstance(v, np.generic) else v.item()) for k, v in handle.attrs.items()}
        ids = list(handle["stimulus_id"].asstr()[()])
    return xr.DataArray(
        np.concatenate(blocks, axis=1),
        dims=("stimulus", "neuroid"),
        coords={"stimulus": ids, **{k: ("neuroid", np.concatenate(v)) for k, v in coords.items()}},
        attrs=attrs,
        name="features",
    )
