"""Robustness reports: top-1 per corruption x severity, CE / mCE against a baseline (a results file, or
"alexnet": its published ImageNet-C errors), and a heatmap."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from brainlike.analysis.corruptions import CORRUPTIONS, SEVERITIES
from brainlike.analysis.robustness.mce import corruption_errors, read_baseline, relative_corruption_errors
from brainlike.analysis.robustness.measure import RobustnessResult, measure_robustness
from brainlike.analysis.robustness.published import ALEXNET_CLASSES, CITATION, is_published
from brainlike.data import open_dataset
from brainlike.data.corrupted import check_corrupted_layout
from brainlike.errors import BrainlikeError
from brainlike.reports import Report, markdown_table
from brainlike.reports.figures.robustness import corruption_heatmap
from brainlike.runtime.model_setup import build_for_dataset


def _summary(result: RobustnessResult, baseline: str | Path | None) -> dict:
    """CE and mCE (and their relative forms when the baseline has a clean error), or nothing."""
    if baseline is None:
        return {}
    errors, clean_error = result.errors(), result.clean_error()
    base_errors, base_clean = read_baseline(baseline)
    ce = corruption_errors(errors, base_errors)
    summary = {"ce": ce, "mce": float(np.mean(list(ce.values())))}
    if base_clean is not None:
        rce = relative_corruption_errors(errors, clean_error, base_errors, base_clean)
        summary.update(relative_ce=rce, relative_mce=float(np.mean(list(rce.values()))))
    return summary


def _table(result: RobustnessResult, summary: dict, severities: list[int]) -> str:
    extra = [(key, label) for key, label in (("ce", "CE %"), ("relative_ce", "relative CE %")) if key in summary]
    headers = ["corruption", "clean top-1 %", *(f"sev {s} top-1 %" for s in severities), *(h for _, h in extra)]
    rows = [
        [
            name,
            f"{100 * result.clean[-1]:.1f}",
            *(f"{100 * result.top1[name][s][-1]:.1f}" for s in severities),
            *(f"{100 * summary[key][name]:.1f}" for key, _ in extra),
        ]
        for name in result.top1
    ]
    return markdown_table(headers, rows)


def _baseline_name(baseline) -> str:
    return f"{baseline}, published ImageNet-C errors ({CITATION})" if is_published(baseline) else str(baseline)


def _summary_text(result: RobustnessResult, summary: dict, baseline, corrupted_data=None) -> str:
    corrupted = [a[-1] for cells in result.top1.values() for a in cells.values()]
    source = f"read from {corrupted_data}" if corrupted_data else "corrupted on the fly at the model's resolution"
    skipped = f" ({result.unreadable} unreadable, skipped)" if result.unreadable else ""
    lines = [
        f"Images scored: {result.images}{skipped}, {source}. Mean corrupted top-1: {100 * np.mean(corrupted):.1f} %."
    ]
    for name, counts in result.cell_images.items():
        lines.append(f"{name}: " + ", ".join(f"severity {s} scored {n} images" for s, n in counts.items()) + ".")
    if "mce" in summary:
        lines.append(f"mCE: {100 * summary['mce']:.1f} % (baseline {_baseline_name(baseline)}).")
        if is_published(baseline) and not corrupted_data:
            lines.append(
                "The published baseline was measured on the published ImageNet-C images (224 px, JPEG); "
                "corruptions made on the fly differ from them, so the comparison is exact only with the "
                "published folders (`corrupted_data` / `--corrupted-data`)."
            )
    if "relative_mce" in summary:
        lines.append(f"Relative mCE: {100 * summary['relative_mce']:.1f} %.")
    if len(result.clean) > 1:
        lines.append("Accuracy per readout step is in report.json (`top1_per_step`).")
    return "\n\n".join(lines)


def write_robustness_report(
    result: RobustnessResult, folder: str | Path, *, baseline: str | Path | None = None, details: Mapping | None = None
) -> Path:
    """Write report.json, report.md (table corruption x severity, CE/mCE with a baseline) and a heatmap."""
    report = Report(Path(folder), f"Robustness of {result.model} to common corruptions")
    severities = sorted({s for cells in result.top1.values() for s in cells})
    report.data.update(
        {
            **(details or {}),
            "model": result.model,
            "images": result.images,
            "unreadable_images": result.unreadable,
            **({"images_per_cell": result.cell_images} if result.cell_images else {}),
            "clean_top1_per_step": result.clean,
            "clean_error": result.clean_error(),
            "top1_per_step": result.top1,
            "errors": result.errors(),
        }
    )
    summary = _summary(result, baseline)
    if summary:
        report.data.update(summary, baseline=str(baseline))
    report.add_section("Top-1 accuracy (last readout step)", _table(result, summary, severities))
    report.add_section("Summary", _summary_text(result, summary, baseline, (details or {}).get("corrupted_data")))
    names = list(result.top1)
    grid = np.array([[100 * result.top1[c][s][-1] for s in severities] for c in names])
    heatmap = corruption_heatmap(
        grid, names, severities, clean_percent=100 * result.clean[-1], title=f"{result.model}: top-1 under corruption"
    )
    report.add_figure("robustness_heatmap", heatmap, caption="top-1 per corruption and severity")
    return report.write()


def robustness_report(
    model: str | nn.Module,
    output: str | Path,
    *,
    data: str | Path,
    pretrained: bool | str = True,
    corruptions: Iterable[str] = CORRUPTIONS,
    severities: Iterable[int] = SEVERITIES,
    split: str = "val",
    baseline: str | Path | None = None,
    seed: int = 0,
    batch_size: int = 64,
    workers: int | None = None,
    limit: int | None = None,
    precision: str = "fp32",
    device: str = "auto",
    reference: bool = False,
    skip_bad: bool = False,
    progress: bool = True,
    corrupted_data: str | Path | None = None,
    **model_config,
) -> Path:
    """`brainlike robustness`: measure a model (a module, or a registered name built with `pretrained`)
    on a dataset split under corruptions and write a report folder to `output`.

    baseline: a results file, or "alexnet" for AlexNet's published ImageNet-C errors (1000-class models).
    corrupted_data: a folder in the published ImageNet-C / Tiny-ImageNet-C layout to read the corrupted
    cells from (`data` still gives the clean images). An interrupted run picks up from
    `output/cells.json` (`cells_published.json` with `corrupted_data`).
    """
    corruptions, severities = list(corruptions), list(severities)
    if baseline is not None:
        read_baseline(baseline)  # fail before hours of evaluation, not after
    if corrupted_data is not None:
        check_corrupted_layout(corrupted_data, corruptions, severities)
    dataset = open_dataset(data, split, skip_bad=skip_bad)
    if is_published(baseline) and dataset.num_classes != ALEXNET_CLASSES:
        raise BrainlikeError(
            f"the published {baseline} errors are ImageNet-C's ({ALEXNET_CLASSES} classes); {data} has "
            f"{dataset.num_classes} classes: give a baseline results file measured on this dataset"
        )
    torch.manual_seed(seed)  # random weights follow the seed: a resumed run measures the same network
    model, settings = build_for_dataset(model, dataset, pretrained=pretrained, **model_config)
    result = measure_robustness(
        model,
        dataset,
        corruptions=corruptions,
        severities=severities,
        seed=seed,
        batch_size=batch_size,
        workers=workers,
        precision=precision,
        reference=reference,
        limit=limit,
        state_path=Path(output) / ("cells.json" if corrupted_data is None else "cells_published.json"),
        input_size=settings.get("input_size"),
        preprocessing=settings.get("preprocessing"),
        device=device,
        progress=progress,
        corrupted_data=corrupted_data,
    )
    details = {"data": str(data), "split": split, "pretrained": str(pretrained), "seed": seed}
    if corrupted_data is not None:
        details["corrupted_data"] = str(corrupted_data)
    return write_robustness_report(result, output, baseline=baseline, details=details)
