"""The measurements every scorecard knows: accuracy, robustness, V1 and neural:FILE."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import torch.nn as nn

from brainlike.analysis.scorecard.measurements import Job, Score, register_measurement
from brainlike.errors import BrainlikeError


def _subset(dataset, limit: int | None):
    """An evenly spaced subset of `limit` items (all when None or larger), as robustness chooses it."""
    from torch.utils.data import Subset

    if limit is None or limit >= len(dataset):
        return dataset
    return Subset(dataset, np.linspace(0, len(dataset) - 1, limit).round().astype(int).tolist())


def _dataset(model: nn.Module, job: Job):
    from brainlike.data import open_dataset

    card = getattr(model, "card", None)
    if card is None:
        raise BrainlikeError(
            f"{type(model).__name__} has no model card (input size, preprocessing); build it with create_model"
        )
    return open_dataset(job.data, job.split, digits_size=job.input_size or card.input_size)


def wilson_interval(fraction: float, count: int, z: float = 1.959964) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion observed on `count` trials."""
    if count <= 0:
        return (float("nan"), float("nan"))
    centre = (fraction + z**2 / (2 * count)) / (1 + z**2 / count)
    half = z / (1 + z**2 / count) * math.sqrt(fraction * (1 - fraction) / count + z**2 / (4 * count**2))
    return (centre - half, centre + half)


def step_values(values) -> tuple[float, ...] | None:
    """A Score's per_step: the values when there are several steps, else None."""
    return tuple(float(v) for v in values) if len(values) > 1 else None


def _dataset_settings(job: Job) -> dict:
    from brainlike.data import dataset_kind

    dataset_kind(job.data)  # a dataset that is not there is a mistake in the command, not a failed measurement
    return {"data": str(job.data), "split": job.split, "limit": job.limit}


@register_measurement("accuracy", "top-1 on the dataset's split (Wilson 95% interval)", settings=_dataset_settings)
def accuracy(model: nn.Module, job: Job) -> list[Score]:
    from brainlike.runtime import measure_accuracy

    result = measure_accuracy(
        model,
        _subset(_dataset(model, job), job.limit),
        input_size=job.input_size,
        preprocessing=job.preprocessing,
        batch_size=job.batch_size,
        workers=job.workers,
        device=job.device,
    )
    top1 = result.top1[-1]
    return [
        Score(
            "accuracy",
            top1,
            ci=wilson_interval(top1, result.images),
            per_step=step_values(result.top1),
            details={"images": result.images, "top5": result.top5[-1]},
        )
    ]


def _robustness_settings(job: Job) -> dict:
    return {**_dataset_settings(job), "corruptions": job.corruptions, "severities": job.severities, "seed": job.seed}


@register_measurement(
    "robustness", "mean top-1 over corruptions x severities (ImageNet-C style)", settings=_robustness_settings
)
def robustness(model: nn.Module, job: Job) -> list[Score]:
    from brainlike.analysis.robustness import measure_robustness

    result = measure_robustness(
        model,
        _dataset(model, job),
        corruptions=job.corruptions,
        severities=job.severities,
        seed=job.seed,
        batch_size=job.batch_size,
        workers=job.workers,
        limit=job.limit,
        input_size=job.input_size,
        preprocessing=job.preprocessing,
        device=job.device,
    )
    cells = np.array([acc for per in result.top1.values() for acc in per.values()])  # (cells, readout steps)
    per_step = cells.mean(axis=0)
    details = {
        "clean_top1": result.clean[-1],
        "images": result.images,
        "per_corruption": {c: float(np.mean([acc[-1] for acc in per.values()])) for c, per in result.top1.items()},
    }
    return [Score("robustness", float(per_step[-1]), per_step=step_values(per_step), details=details)]


@register_measurement(
    "v1",
    "Marques et al. (2021) V1 panel: mean of the ceiled group scores",
    settings=lambda job: {"units": job.v1_units, "seed": job.seed},
)
def v1(model: nn.Module, job: Job) -> list[Score]:
    from brainlike.analysis.v1 import measure_v1

    result = measure_v1(model, max_units=job.v1_units, seed=job.seed)
    groups = {g.group: g.score for g in result.groups}
    scored = [s for s in groups.values() if math.isfinite(s)]
    value = float(np.mean(scored)) if scored else float("nan")
    return [Score("v1", value, ceiled=True, details={"groups": groups, "area": result.area, "step": result.step})]


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def stimuli_digest(stimuli: str | Path) -> str:
    """A digest of the stimulus ids and of each image's size and modification time."""
    from brainlike.analysis.features import list_stimuli

    ids, paths = list_stimuli(stimuli)
    digest = hashlib.sha256()
    for stimulus, path in zip(ids, paths):
        info = path.stat()
        digest.update(f"{stimulus}:{info.st_size}:{info.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def _neural_settings(job: Job) -> dict:
    path = Path(job.argument)
    if not path.is_file():
        raise BrainlikeError(f"neural:{job.argument}: no neural data file there")
    if job.stimuli is None:
        raise BrainlikeError(
            "neural:FILE needs the stimulus images (--stimuli DIR): their ids (paths relative to DIR) "
            "must be the neural file's stimulus ids"
        )
    return {"neural": _file_digest(path), "stimuli": stimuli_digest(job.stimuli), "seed": job.seed, "method": "ridge"}


@register_measurement(
    "neural",
    "ridge predictivity of the best layer / noise ceiling (neural:FILE, images from --stimuli)",
    settings=_neural_settings,
    argument="required",
)
def neural(model: nn.Module, job: Job) -> list[Score]:
    from brainlike.analysis.features import extract_features
    from brainlike.analysis.neural import compare_features

    features = extract_features(
        model,
        job.stimuli,
        job.folder / "features.h5",
        batch_size=job.batch_size,
        workers=job.workers,
        device=job.device,
        overwrite=True,
        progress=False,
    )
    scores = [
        s for s in compare_features(features, job.argument, seed=job.seed, progress=False) if math.isfinite(s.value)
    ]
    if not scores:
        raise BrainlikeError(f"no layer of {model.card.name} could be scored against {job.argument}")
    best = max(scores, key=lambda s: s.value)
    steps = sorted(
        (s for s in scores if s.area == best.area and s.neural_bin_ms == best.neural_bin_ms), key=lambda s: s.step
    )
    return [
        Score(
            f"neural:{Path(job.argument).stem}",
            best.value,
            raw=best.score,
            ceiling=best.ceiling,
            ceiled=best.normalized is not None,
            ci=best.ci,
            per_step=step_values([s.value for s in steps]),
            details={"best_layer": best.layer, "layers": {s.layer: s.value for s in scores}},
        )
    ]
