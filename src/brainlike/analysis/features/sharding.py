"""Extraction under torchrun: each rank writes a contiguous shard of the stimuli beside the output file,
and rank 0 merges the shards in rank order into it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

import h5py
import torch.distributed as dist

from brainlike.analysis.features.store import (
    SETTINGS,
    check_complete,
    dataset_key,
    new_file,
    new_layer_dataset,
    stored_ids,
    stored_layers,
)
from brainlike.errors import BrainlikeError
from brainlike.reports import atomic_path
from brainlike.runtime.distributed import Context, barrier, setup, teardown

COPY_ROWS = 256


@contextmanager
def process_group(device: str | None) -> Iterator[Context]:
    """The torchrun process group on `device` (a single-process context outside torchrun). A group joined
    here is left here; one the caller had joined stays, since the caller may still need it."""
    joined_before = dist.is_available() and dist.is_initialized()
    context = setup(device)
    try:
        yield context
    finally:
        if not joined_before:
            teardown(context)


def extract_in_shards(extract: Callable[[int, int, Path], None], output: Path, count: int, context: Context) -> None:
    """Run `extract(lo, hi, shard_file)` for this rank's share of `count` stimuli, then merge on rank 0."""
    rank, world = context.rank, context.world_size
    shards = [output.with_name(f"{output.name}.rank{r}-of-{world}") for r in range(world)]
    extract(count * rank // world, count * (rank + 1) // world, shards[rank])
    barrier(context)
    if context.is_main:
        merge_features(shards, output, overwrite=True)
        for shard in shards:
            shard.unlink()
    barrier(context)


def merge_features(parts: Sequence[str | os.PathLike], output: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Concatenate complete feature files of the same extraction (shards, in order) into one file."""
    parts, output = [Path(p) for p in parts], Path(output)
    if output.exists() and not overwrite:
        raise BrainlikeError(f"{output} exists; choose another name or merge with overwrite")
    handles = [h5py.File(p, "r") for p in parts]
    try:
        first = handles[0]
        for part, handle in zip(parts, handles):
            check_complete(handle, part)
            if any(handle.attrs[k] != first.attrs[k] for k in SETTINGS):
                raise BrainlikeError(f"{part} comes from a different extraction than {parts[0]}")
        ids = [s for h in handles for s in stored_ids(h)]
        # a merged file says it is complete from its first write, so it appears only once it is
        with atomic_path(output) as partial, new_file(partial, first.attrs, ids, rows_done=len(ids)) as merged:
            for area, step in stored_layers(first):
                _concatenate(merged, dataset_key(area, step), handles, len(ids))
    finally:
        for handle in handles:
            handle.close()
    return output


def _concatenate(merged: h5py.File, key: str, handles: list[h5py.File], rows: int) -> None:
    source = handles[0][key]
    target = new_layer_dataset(merged, key, (rows, *source.shape[1:]), source.chunks, source.dtype, dict(source.attrs))
    row = 0
    for handle in handles:
        part = handle[key]
        for lo in range(0, len(part), COPY_ROWS):
            block = part[lo : lo + COPY_ROWS]
            target[row : row + len(block)] = block
            row += len(block)
