"""Robustness to common corruptions, ImageNet-C style, on any dataset brainlike can load.

Each image is brought to the model's input resolution by its card's preprocessing geometry, then
corrupted (seeded per image, corruption and severity, so a run is reproducible and independent of
batching), then normalised. Accuracy is measured per readout step. Errors are summarised as in
Hendrycks & Dietterich (2019):

    CE_c  = sum_s E(c, s) / sum_s E_base(c, s)                         mCE = mean_c CE_c
    rCE_c = sum_s (E(c, s) - E_clean) / sum_s (E_base(c, s) - E_base_clean)   relative mCE = mean_c rCE_c

where the baseline is another model's results (AlexNet by the ImageNet-C convention) given as a
results file. Results are saved cell by cell, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision.transforms import v2

from brainlike.analysis.corruptions import (
    CORRUPTIONS,
    SEVERITIES,
    check,
    corrupt,
    corrupt_batch,
    corruption_seed,
    faster_batched,
)
from brainlike.errors import BrainlikeError
from brainlike.report import Report, markdown_table, to_jsonable, write_atomic
from brainlike.transforms import geometry, normalize

CLEAN = "clean"
MIN_CORRUPTION_SIZE = 32


@dataclass
class RobustnessResult:
    """Top-1 accuracy per readout step for the clean images and every (corruption, severity) cell."""

    model: str
    images: int
    clean: list[float]
    top1: dict[str, dict[int, list[float]]] = field(default_factory=dict)

    def errors(self, step: int = -1) -> dict[str, dict[int, float]]:
        return {c: {s: 1 - acc[step] for s, acc in cells.items()} for c, cells in self.top1.items()}

    def clean_error(self, step: int = -1) -> float:
        return 1 - self.clean[step]


def corruption_errors(
    errors: Mapping[str, Mapping[int, float]], baseline: Mapping[str, Mapping[int, float]]
) -> dict[str, float]:
    """CE per corruption: the model's summed errors over severities over the baseline's."""
    result = {}
    for name, cells in errors.items():
        if name not in baseline:
            raise BrainlikeError(f"the baseline has no results for {name}")
        missing = set(cells) - set(baseline[name])
        if missing:
            raise BrainlikeError(f"the baseline has no {name} results at severities {sorted(missing)}")
        result[name] = sum(cells.values()) / sum(baseline[name][s] for s in cells)
    return result


def relative_corruption_errors(errors, clean_error: float, baseline, baseline_clean_error: float) -> dict[str, float]:
    """Relative CE per corruption: the drop from clean error, over the baseline's drop."""
    result = {}
    for name, cells in errors.items():
        ours = sum(e - clean_error for e in cells.values())
        theirs = sum(baseline[name][s] - baseline_clean_error for s in cells)
        result[name] = ours / theirs if theirs else float("nan")
    return result


def read_baseline(path: str | Path) -> tuple[dict[str, dict[int, float]], float | None]:
    """(errors per corruption and severity, clean error or None) from a results JSON file.

    Accepts a brainlike robustness `report.json` or `{"errors": {name: [e1..e5] or {"1": e1, ...}},
    "clean_error": e}` (errors as fractions in [0, 1]).
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
        raw = payload["errors"]
        errors = {}
        for name, values in raw.items():
            pairs = enumerate(values, start=1) if isinstance(values, list) else values.items()
            errors[name] = {int(s): float(e) for s, e in pairs}
    except FileNotFoundError:
        raise BrainlikeError(f"no baseline results file at {path}") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise BrainlikeError(f"{path} is not a results file with an 'errors' table ({error})") from None
    bad = [e for cells in errors.values() for e in cells.values() if not 0 <= e <= 1]
    if bad:
        raise BrainlikeError(f"{path}: errors must be fractions in [0, 1], found {bad[0]}")
    clean = payload.get("clean_error")
    return errors, None if clean is None else float(clean)


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


def evaluate_robustness(
    model: torch.nn.Module,
    dataset,
    *,
    corruptions: Sequence[str] = CORRUPTIONS,
    severities: Sequence[int] = SEVERITIES,
    seed: int = 0,
    batch_size: int = 64,
    workers: int = 0,
    precision: str = "fp32",
    reference: bool = False,
    limit: int | None = None,
    state_path: str | Path | None = None,
    size: int | None = None,
    preprocessing: str | None = None,
    progress: bool = False,
) -> RobustnessResult:
    """Clean and corrupted top-1 per readout step of `model` on `dataset`.

    reference: use the per-image reference implementation even where a faster batched one exists.
    workers: loader processes; they decode, resize and apply the reference corruptions in parallel.
    limit: evaluate an evenly spaced subset of this many images. state_path: a JSON file where
    finished cells are kept; a later call with the same settings skips them. size, preprocessing:
    the input resolution and preset (default: the model card's).
    """
    from tqdm import tqdm

    from brainlike.training.distributed import pick_device
    from brainlike.training.evaluation import run_evaluation
    from brainlike.training.losses import ReadoutLoss
    from brainlike.training.readouts import Readouts

    for name in corruptions:
        for severity in severities:
            check(name, severity)
    card = model.card
    size, preprocessing = size or card.input_size, preprocessing or card.preprocessing
    if limit is not None and limit < len(dataset):
        dataset = Subset(dataset, np.linspace(0, len(dataset) - 1, limit).round().astype(int).tolist())
    settings = {
        "model": card.name,
        "images": len(dataset),
        "seed": seed,
        "reference": reference,
        "preprocessing": preprocessing,
        "size": size,
    }
    cells = _load_state(state_path, settings)
    device = pick_device(None)
    model.to(device)
    readouts, loss = Readouts(model), ReadoutLoss().to(device)
    todo = [(CLEAN, 0)] + [(c, s) for c in corruptions for s in severities]
    for name, severity in tqdm(todo, desc="corruptions", disable=not progress):
        key = f"{name}/{severity}"
        if key in cells:
            continue
        cell = None if name == CLEAN else (name, severity, seed)
        batched = cell is not None and not reference and size >= MIN_CORRUPTION_SIZE and faster_batched(name, device)
        items = _CorruptedPixels(dataset, preprocessing, size, None if batched else cell)
        loader = DataLoader(items, batch_size=batch_size, num_workers=workers, collate_fn=_collate)
        batches = _batches(loader, preprocessing, device, cell if batched else None)
        evaluation = run_evaluation(readouts, batches, loss_fn=loss, device=device, precision=precision)
        cells[key] = evaluation.top1
        _save_state(state_path, settings, cells)
    result = RobustnessResult(card.name, len(dataset), cells[f"{CLEAN}/0"])
    for name in corruptions:
        result.top1[name] = {s: cells[f"{name}/{s}"] for s in severities}
    return result


def _load_state(path, settings: dict) -> dict:
    if path is None or not Path(path).is_file():
        return {}
    state = json.loads(Path(path).read_text())
    if state.get("settings") != to_jsonable(settings):
        raise BrainlikeError(
            f"{path} holds a run with other settings ({state.get('settings')}); "
            f"choose another output folder or remove it"
        )
    return state["cells"]


def _save_state(path, settings: dict, cells: dict) -> None:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(Path(path), json.dumps({"settings": to_jsonable(settings), "cells": cells}))


def heatmap(result: RobustnessResult, step: int = -1):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result.top1)
    severities = sorted({s for cells in result.top1.values() for s in cells})
    grid = np.array([[100 * result.top1[c][s][step] for s in severities] for c in names])
    figure, axis = plt.subplots(figsize=(1.2 * len(severities) + 3, 0.35 * len(names) + 1.5))
    image = axis.imshow(grid, vmin=0, vmax=100, cmap="viridis", aspect="auto")
    axis.set_xticks(range(len(severities)), [str(s) for s in severities])
    axis.set_yticks(range(len(names)), names)
    axis.set_xlabel("severity")
    for i in range(len(names)):
        for j in range(len(severities)):
            axis.text(
                j,
                i,
                f"{grid[i, j]:.0f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if grid[i, j] < 60 else "black",
            )
    figure.colorbar(image, ax=axis, label=f"top-1 % (clean {100 * result.clean[step]:.1f})")
    axis.set_title(f"{result.model}: top-1 under corruption")
    figure.tight_layout()
    return figure


def robustness_report(
    result: RobustnessResult, folder: str | Path, *, baseline: str | Path | None = None, details: Mapping | None = None
) -> Report:
    """Write report.json, report.md (table corruption x severity, CE/mCE with a baseline) and a heatmap."""
    report = Report(Path(folder), f"Robustness of {result.model} to common corruptions")
    errors, clean_error = result.errors(), result.clean_error()
    severities = sorted({s for cells in result.top1.values() for s in cells})
    report.data.update(
        {
            **(details or {}),
            "model": result.model,
            "images": result.images,
            "clean_top1_per_step": result.clean,
            "clean_error": clean_error,
            "top1_per_step": result.top1,
            "errors": errors,
        }
    )
    summary = {}
    if baseline is not None:
        base_errors, base_clean = read_baseline(baseline)
        ce = corruption_errors(errors, base_errors)
        summary["ce"], summary["mce"] = ce, float(np.mean(list(ce.values())))
        if base_clean is not None:
            rce = relative_corruption_errors(errors, clean_error, base_errors, base_clean)
            summary["relative_ce"], summary["relative_mce"] = rce, float(np.mean(list(rce.values())))
        report.data.update(summary, baseline=str(baseline))
    rows = []
    for name in result.top1:
        row = [name, f"{100 * result.clean[-1]:.1f}"]
        row += [f"{100 * result.top1[name][s][-1]:.1f}" for s in severities]
        if "ce" in summary:
            row.append(f"{100 * summary['ce'][name]:.1f}")
        if "relative_ce" in summary:
            row.append(f"{100 * summary['relative_ce'][name]:.1f}")
        rows.append(row)
    headers = ["corruption", "clean top-1 %"] + [f"sev {s} top-1 %" for s in severities]
    headers += ["CE %"] if "ce" in summary else []
    headers += ["relative CE %"] if "relative_ce" in summary else []
    report.add_section("Top-1 accuracy (last readout step)", markdown_table(headers, rows))
    lines = [
        f"Images: {result.images}. Mean corrupted top-1: "
        f"{100 * np.mean([a[-1] for cells in result.top1.values() for a in cells.values()]):.1f} %."
    ]
    if "mce" in summary:
        lines.append(f"mCE: {100 * summary['mce']:.1f} % (baseline {baseline}).")
    if "relative_mce" in summary:
        lines.append(f"Relative mCE: {100 * summary['relative_mce']:.1f} %.")
    if len(result.clean) > 1:
        lines.append("Accuracy per readout step is in report.json (`top1_per_step`).")
    report.add_section("Summary", "\n\n".join(lines))
    report.add_figure("robustness_heatmap", heatmap(result), caption="top-1 per corruption and severity")
    report.write()
    return report


def robustness(
    name: str,
    data: str | Path,
    *,
    pretrained: bool | str = True,
    output: str | Path = "robustness",
    corruptions: Iterable[str] = CORRUPTIONS,
    severities: Iterable[int] = SEVERITIES,
    split: str = "val",
    baseline: str | Path | None = None,
    seed: int = 0,
    batch_size: int = 64,
    workers: int = 0,
    limit: int | None = None,
    precision: str = "fp32",
    reference: bool = False,
    skip_bad: bool = False,
    progress: bool = True,
    **model_config,
) -> RobustnessResult:
    """`brainlike robustness`: evaluate a registered model and write a report folder to `output`.

    An interrupted run picks up from `output/cells.json`.
    """
    from brainlike.data import open_dataset
    from brainlike.training.model_setup import build_for_dataset

    if baseline is not None:
        read_baseline(baseline)  # fail before hours of evaluation, not after
    dataset = open_dataset(data, split, skip_bad=skip_bad)
    model, settings = build_for_dataset(name, dataset, pretrained=pretrained, **model_config)
    result = evaluate_robustness(
        model,
        dataset,
        corruptions=list(corruptions),
        severities=list(severities),
        seed=seed,
        batch_size=batch_size,
        workers=workers,
        precision=precision,
        reference=reference,
        limit=limit,
        state_path=Path(output) / "cells.json",
        size=settings.get("image_size"),
        preprocessing=settings.get("normalization"),
        progress=progress,
    )
    robustness_report(
        result,
        output,
        baseline=baseline,
        details={"data": str(data), "split": split, "pretrained": str(pretrained), "seed": seed},
    )
    return result
