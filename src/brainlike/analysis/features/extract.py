"""`extract_features`: every stimulus through the model, each chosen (area, step) to the features file: areas
(or one or all of their streams), any module path, and the logits of every readout step."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from brainlike.analysis.features.sharding import extract_in_shards, process_group
from brainlike.analysis.features.stimuli import ImageFiles, collate_images, list_stimuli
from brainlike.analysis.features.store import Layer, Writer, note_skipped, open_output, plan_layers
from brainlike.errors import BrainlikeError
from brainlike.recording import READOUT, card_of, check_pool, image_layout, record
from brainlike.registry import ModelCard, create_model
from brainlike.runtime.devices import decode_workers, spare_cores
from brainlike.runtime.distributed import broadcast_module, rank_and_world
from brainlike.runtime.fingerprints import weights_digest
from brainlike.transforms import normalize

PRECISIONS = ("fp32", "bf16")


def extract_features(
    model: str | nn.Module,
    stimuli: str | os.PathLike | Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    areas: Iterable[str] | None = None,
    steps: Sequence[int] | None = None,
    layers: Iterable[str] | None = None,
    readouts: bool = False,
    stream: str | None = None,
    pool: str = "avg",
    batch_size: int = 32,
    workers: int | None = None,
    pretrained: bool | str = False,
    precision: str = "fp32",
    device: str = "auto",
    seed: int = 0,
    skip_bad: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Extract features of every stimulus to the HDF5 file `output` and return its path.

    model: a registered name (built with `pretrained`) or a model from `create_model`. An existing
    file from the same extraction is resumed where it stopped; one from a different extraction is
    refused unless `overwrite`. workers: image decoding processes; None picks `decode_workers(device)`.
    device: "auto" is a GPU when there is one, else the CPU. Under torchrun each rank extracts a
    contiguous shard on its own device and rank 0 merges. Memory does not grow with the number of
    stimuli (bench/MEASUREMENTS.md, "Feature extraction memory"). The file records a digest of the
    weights: resuming or merging with another network is refused. A name with `pretrained=False` is built
    with random weights drawn from `seed`, so an interrupted random-weights run resumes with the same network.
    skip_bad: an image that cannot be read gets NaN features and its id is listed in the file
    (`skipped_stimuli`), instead of stopping the run.

    areas: card areas (default: all of them, unless `layers` or `readouts` is given without a `stream`:
    they then replace them). layers: module paths (`model.named_modules()`), stored under the path, one
    step per call in the forward pass (counted in a dry run on a blank image). readouts: the logits of every
    readout step, stored as area "readout". stream: for two-stream models (BLT-VS), "bu", "td" or "all"
    (areas then stored as "V1.bu", "V1.td"); None keeps each area's first stream under the area's name.
    steps applies to areas, layers and readouts alike. Every one of these settings is part of the file's
    fingerprint: a resume with others is refused.
    """
    check_pool(pool)
    if precision not in PRECISIONS:
        raise BrainlikeError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if batch_size < 1 or (workers is not None and workers < 0):
        raise BrainlikeError("batch size must be >= 1 and workers >= 0")
    ids, paths = list_stimuli(stimuli)
    layers = None if layers is None else list(layers)
    world = rank_and_world()[1]
    if world > len(ids):
        raise BrainlikeError(f"{world} ranks for {len(ids)} stimuli: every rank needs at least one")
    weights = f"pretrained={pretrained}" if isinstance(model, str) else "given model"
    output = Path(output)
    with process_group(device) as context:
        if isinstance(model, str):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = create_model(model, pretrained=pretrained)
        model = model.to(context.device)  # record() switches to eval mode and back
        # shards of randomly initialised models (or of models built differently per rank) must come from
        # one and the same network
        broadcast_module(model, context)
        card = card_of(model)
        calls, readout_steps = _count_calls(model, card, layers, readouts, context.device)
        extraction = _Extraction(
            model,
            card,
            plan_layers(card, areas, steps, stream=stream, calls=calls, readouts=readout_steps),
            requested_steps=steps,
            stream=stream,
            pool=pool,
            batch_size=batch_size,
            workers=decode_workers(context.device) if workers is None else workers,
            precision=precision,
            device=context.device,
            weights=weights,
            overwrite=overwrite,
            progress=progress,
            digest=weights_digest(model),
            skip_bad=skip_bad,
        )
        if context.distributed:
            extract_in_shards(
                lambda lo, hi, shard: extraction.run(ids[lo:hi], paths[lo:hi], shard), output, len(ids), context
            )
        else:
            extraction.run(ids, paths, output)
    return output


def _count_calls(
    model: nn.Module, card: ModelCard, layers: Iterable[str] | None, readouts: bool, device: torch.device
) -> tuple[dict[str, int], int]:
    """({module path: calls per forward pass}, readout steps), from one dry run on a blank image; nothing
    runs when neither is asked for. An unknown path is refused here, naming the closest ones."""
    if layers is None and not readouts:
        return {}, 0
    blank = torch.zeros(1, 3, card.input_size, card.input_size, device=device)
    recorded = record(model, blank, layers=layers, readouts=readouts)
    readout_steps = len(recorded.pop(READOUT, ()))
    return {path: len(calls) for path, calls in recorded.items()}, readout_steps


@dataclass(frozen=True)
class _Extraction:
    model: nn.Module
    card: ModelCard
    layers: list[Layer]
    requested_steps: Sequence[int] | None
    stream: str | None
    pool: str
    batch_size: int
    workers: int
    precision: str
    device: torch.device
    weights: str
    overwrite: bool
    progress: bool
    digest: str
    skip_bad: bool

    def run(self, ids: list[str], paths: list[Path], output: Path) -> None:
        from tqdm import tqdm

        handle = open_output(
            output, ids, self.card, self.layers, self.pool, self.precision, self.weights, self.digest, self.overwrite
        )
        if handle is None:
            return
        with handle:
            start = int(handle.attrs["rows_done"])
            writer = Writer(handle, self.layers, self.batch_size, background=spare_cores(self.device) > 0)
            try:
                with tqdm(
                    total=len(ids), initial=start, unit="img", disable=not self.progress, desc=output.name
                ) as bar:
                    for row, arrays, unreadable in self._batches(paths, start):
                        writer.put(row, arrays)
                        if unreadable:
                            note_skipped(handle, [ids[row + i] for i in unreadable])
                        bar.update(len(arrays[0]))
            finally:
                writer.finish()

    def _batches(self, paths: list[Path], start: int) -> Iterator[tuple[int, list[np.ndarray], list[int]]]:
        """(first row, one array per layer, the batch rows that could not be read) for each batch of the
        stimuli from row `start` on; unreadable rows are NaN (with skip_bad; else the run stops)."""
        memory_format = image_layout(self.device)  # decode straight into the layout record() runs in
        loader = DataLoader(
            ImageFiles(paths, self.card.preprocessing, self.card.input_size, start),
            batch_size=self.batch_size,
            num_workers=self.workers,
            collate_fn=partial(collate_images, memory_format=memory_format),
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
        )
        areas = list(dict.fromkeys(layer.card_area for layer in self.layers if layer.kind == "area"))
        modules = list(dict.fromkeys(layer.module for layer in self.layers if layer.kind == "layer"))
        reading = dict(
            areas=areas or None,
            steps=self.requested_steps,
            stream=self.stream,
            layers=modules or None,
            readouts=any(layer.kind == "readout" for layer in self.layers),
            precision=self.precision,
            pool=self.pool,
        )
        row, pixels = start, None
        for x, errors in loader:
            unreadable = [i for i, e in enumerate(errors) if e]
            if unreadable and not self.skip_bad:
                raise BrainlikeError(f"{errors[unreadable[0]]} (skip such files with skip_bad / --skip-bad)")
            if pixels is None:  # one buffer for all batches: the model keeps no reference to its input
                pixels = torch.empty(x.shape, device=self.device, memory_format=memory_format)
            x = normalize(x.to(self.device, non_blocking=True), self.card.preprocessing, out=pixels[: len(x)])
            recorded = record(self.model, x, **reading)
            arrays = [recorded[layer.read][layer.position].cpu().numpy() for layer in self.layers]
            for array in arrays:
                array[unreadable] = np.nan
            yield row, arrays, unreadable
            row += len(x)
