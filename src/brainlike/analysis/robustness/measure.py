"""Robustness to common corruptions, ImageNet-C style, on any dataset brainlike can load.

Each image is brought to the model's input resolution by its card's preprocessing geometry, then
corrupted (seeded per image, corruption and severity, so a run is reproducible and independent of
batching), then normalised; or, with `corrupted_data`, the corrupted images are read from a folder in
the published ImageNet-C / Tiny-ImageNet-C layout (`brainlike.data.corrupted`). Accuracy is measured
per readout step. Results are saved cell by cell, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision.transforms import v2
from tqdm import tqdm

from brainlike.analysis.corruptions import (
    CORRUPTIONS,
    SEVERITIES,
    check,
    corrupt,
    corrupt_batch,
    corruption_seed,
    faster_batched,
)
from brainlike.data.corrupted import SQUASH_PRESET, corrupted_folder, dataset_class_names
from brainlike.errors import BrainlikeError
from brainlike.reports import to_jsonable, write_atomic
from brainlike.runtime import evaluation
from brainlike.runtime.devices import decode_workers, pick_device
from brainlike.runtime.fingerprints import weights_digest
from brainlike.runtime.readouts import ReadoutLoss, Readouts
from brainlike.transforms import geometry, normalize

CLEAN = "clean"
MIN_CORRUPTION_SIZE = 32


@dataclass
class RobustnessResult:
    """Top-1 accuracy per readout step for the clean images and every (corruption, severity) cell."""

    model: str
    images: int  # the clean images scored (unreadable ones skipped with skip_bad are not counted)
    clean: list[float]
    top1: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    unreadable: int = 0  # images of the dataset (after `limit`) skipped because they could not be read
    cell_images: dict[str, dict[int, int]] = field(default_factory=dict)  # corrupted cells scoring other counts

    def errors(self, step: int = -1) -> dict[str, dict[int, float]]:
        return {c: {s: 1 - acc[step] for s, acc in cells.items()} for c, cells in self.top1.items()}

    def clean_error(self, step: int = -1) -> float:
        return 1 - self.clean[step]

    def frame(self):
        """A pandas DataFrame, one row per (corruption, severity, readout step); the clean images are
        corruption "clean", severity 0."""
        import pandas as pd

        cells = {(CLEAN, 0): self.clean, **{(c, s): acc for c, per in self.top1.items() for s, acc in per.items()}}
        rows = [(c, s, t, a) for (c, s), acc in cells.items() for t, a in enumerate(acc)]
        return pd.DataFrame(rows, columns=["corruption", "severity", "readout_step", "top1"])


class _CorruptedPixels(Dataset):
    """Items as (uint8 image at the model's resolution, label, index).

    With `corruption`, the reference corruption is applied here, so loader workers share the work;
    without, images come back clean (the clean cell, or a batched corruption applied later). The
    reference corruptions need 32 x 32 pixels at least, so for smaller models every image, clean or
    not, is rendered at 32 px, corrupted there, and then resized to the model's size.
    """

    def __init__(self, dataset, preset: str, size: int, corruption: tuple[str, int, int] | None):
        self.dataset, self.corruption = dataset, corruption
        self.geometry = geometry(preset, max(size, MIN_CORRUPTION_SIZE))
        self.shrink = v2.Resize((size, size), antialias=True) if size < MIN_CORRUPTION_SIZE else None

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        item = self.dataset[index]
        if item is None:
            return None
        image, label = item
        pixels = self.geometry(image)
        if self.corruption is not None:
            name, severity, seed = self.corruption
            hwc = pixels.permute(1, 2, 0).numpy()
            pixels = torch.from_numpy(corrupt(hwc, name, severity, corruption_seed(seed, index, name, severity)))
            pixels = pixels.permute(2, 0, 1)
        if self.shrink is not None:
            pixels = self.shrink(pixels)
        return pixels, label, index


def _collate(batch):
    kept = [item for item in batch if item is not None]
    return torch.utils.data.default_collate(kept) if kept else None


def _batches(loader, preset: str, device: torch.device, batched: tuple[str, int, int] | None):
    for batch in loader:
        if batch is None:
            continue
        pixels, labels, indices = batch
        pixels = pixels.to(device)
        if batched is not None:
            name, severity, seed = batched
            pixels = corrupt_batch(
                pixels, name, severity, [corruption_seed(seed, int(i), name, severity) for i in indices]
            )
        yield normalize(pixels, preset), labels


def _limited(dataset, limit: int | None):
    if limit is not None and limit < len(dataset):
        return Subset(dataset, np.linspace(0, len(dataset) - 1, limit).round().astype(int).tolist())
    return dataset


def measure_robustness(
    model: torch.nn.Module,
    dataset,
    *,
    corruptions: Sequence[str] = CORRUPTIONS,
    severities: Sequence[int] = SEVERITIES,
    seed: int = 0,
    batch_size: int = 64,
    workers: int | None = None,
    precision: str = "fp32",
    reference: bool = False,
    limit: int | None = None,
    state_path: str | Path | None = None,
    input_size: int | None = None,
    preprocessing: str | None = None,
    device: str = "auto",
    progress: bool = False,
    corrupted_data: str | Path | None = None,
) -> RobustnessResult:
    """Clean and corrupted top-1 per readout step of `model` on `dataset`.

    reference: use the per-image reference implementation even where a faster batched one exists.
    workers: loader processes (default: the spare cores); they decode, resize and apply the reference
    corruptions in parallel.
    limit: evaluate an evenly spaced subset of this many images. state_path: a JSON file where
    finished cells are kept; a later call with the same settings skips them. input_size, preprocessing:
    the input resolution and preset (default: the model card's). device: "auto" (a GPU when there is one),
    "cpu", "cuda:1", ...
    corrupted_data: read each corrupted cell from this folder in the published layout
    (`<corruption>/<severity>/<class>/<image>`) instead of corrupting `dataset` (the clean cell).
    """
    for name in corruptions:
        for severity in severities:
            check(name, severity)
    card = model.card
    size, preprocessing = input_size or card.input_size, preprocessing or card.preprocessing
    class_names, skip_bad = dataset_class_names(dataset), getattr(dataset, "skip_bad", False)
    dataset = _limited(dataset, limit)
    settings = {
        "model": card.name,
        "weights_sha256": weights_digest(model),
        "images": len(dataset),
        "seed": seed,
        "reference": reference,
        "preprocessing": preprocessing,
        **({"corrupted_data": str(corrupted_data)} if corrupted_data is not None else {}),
        "size": size,
    }
    cells, scored = _load_state(state_path, settings)
    device = pick_device(device)
    workers = decode_workers(device) if workers is None else workers
    model.to(device)
    readouts, loss = Readouts(model), ReadoutLoss().to(device)
    todo = [(CLEAN, 0)] + [(c, s) for c in corruptions for s in severities]
    for name, severity in tqdm(todo, desc="corruptions", disable=not progress):
        key = f"{name}/{severity}"
        if key in cells:
            continue
        cell = None if name == CLEAN else (name, severity, seed)
        published = cell is not None and corrupted_data is not None
        batched = (
            cell is not None
            and not published
            and not reference
            and size >= MIN_CORRUPTION_SIZE
            and faster_batched(name, device)
        )
        if published:
            source = corrupted_folder(corrupted_data, name, severity, classes=class_names, skip_bad=skip_bad)
            items = _CorruptedPixels(_limited(source, limit), SQUASH_PRESET, size, None)
        else:
            items = _CorruptedPixels(dataset, preprocessing, size, None if batched else cell)
        loader = DataLoader(items, batch_size=batch_size, num_workers=workers, collate_fn=_collate)
        batches = _batches(loader, preprocessing, device, cell if batched else None)
        outcome = evaluation.run_evaluation(readouts, batches, loss_fn=loss, device=device, precision=precision)
        cells[key], scored[key] = outcome.top1, outcome.images
        _save_state(state_path, settings, cells, scored)
    clean_images = scored.get(f"{CLEAN}/0", len(dataset))  # a state from before counts were kept: all of them
    result = RobustnessResult(card.name, clean_images, cells[f"{CLEAN}/0"], unreadable=len(dataset) - clean_images)
    for name in corruptions:
        result.top1[name] = {s: cells[f"{name}/{s}"] for s in severities}
        differ = {
            s: scored[f"{name}/{s}"] for s in severities if scored.get(f"{name}/{s}", clean_images) != clean_images
        }
        if differ:
            result.cell_images[name] = differ
    return result


def _load_state(path, settings: dict) -> tuple[dict, dict]:
    """The finished cells (key -> top-1 per step) and the images each scored."""
    if path is None or not Path(path).is_file():
        return {}, {}
    state = json.loads(Path(path).read_text())
    if state.get("settings") != to_jsonable(settings):
        raise BrainlikeError(
            f"{path} holds a run with other settings ({state.get('settings')}); "
            f"choose another output folder or remove it"
        )
    return state["cells"], state.get("scored", {})


def _save_state(path, settings: dict, cells: dict, scored: dict) -> None:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        payload = {"settings": to_jsonable(settings), "cells": cells, "scored": scored}
        write_atomic(Path(path), json.dumps(payload))
