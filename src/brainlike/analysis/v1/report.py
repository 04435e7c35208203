"""The V1 report folder: report.json, report.md (scores, ceilings, medians) and figures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from brainlike.analysis.v1.measure import V1Result, measure_v1
from brainlike.analysis.v1.scoring import DISTRIBUTION, NOT_MEASURED, SCORED, PropertyScore
from brainlike.recording import card_of
from brainlike.registry import create_model
from brainlike.reports import Report, markdown_table
from brainlike.reports.figures.v1 import histograms_figure, tuning_figure
from brainlike.runtime.devices import pick_device
from brainlike.runtime.fingerprints import fingerprint

# curve -> (x label, y label, log x axis)
CURVES = {
    "orientation": ("orientation (deg)", "spikes/s", False),
    "spatial_frequency": ("spatial frequency (cpd)", "spikes/s (DC - baseline or F1)", True),
    "size": ("grating diameter (deg)", "spikes/s (DC - baseline or F1)", True),
}


def _number(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.3g}"


def example_units(result: V1Result, count: int = 6) -> np.ndarray:
    """The most responsive units that every response criterion keeps (or any kept units)."""
    kept = np.logical_and.reduce(
        [result.kept[p] for p in ("max_dc", "peak_spatial_frequency", "surround_suppression_index")]
    )
    pool = np.flatnonzero(kept) if kept.any() else np.flatnonzero(result.kept["max_dc"])
    order = np.argsort(-result.values["max_dc"][pool])
    return pool[order[:count]]


def _tuning_figure(result: V1Result):
    units = example_units(result)
    panels = [
        dict(
            x=result.axes[kind],
            curves=result.curves[kind][units],
            xlabel=xlabel,
            ylabel=ylabel,
            log_x=log_x,
            title=f"{kind.replace('_', ' ')} tuning",
        )
        for kind, (xlabel, ylabel, log_x) in CURVES.items()
    ]
    return tuning_figure(
        panels,
        labels=[f"unit {result.selection.units[u]}" for u in units],
        title=f"{result.model} {result.area}: example units at their preferred stimulus",
    )


def _histograms_figure(scores: list[PropertyScore], title: str):
    panels = [
        dict(
            bins=s.bins,
            model_counts=s.model_counts,
            data_counts=s.data_counts,
            name=s.property,
            title=s.dataset + (f"  score {s.score:.2f}" if s.status == SCORED else ""),
        )
        for s in scores
        if s.status != NOT_MEASURED
    ]
    return histograms_figure(panels, title=title)


def _status(score: PropertyScore) -> str:
    """The status column: the status, then the note unless the note already begins with it."""
    if not score.note or score.note.startswith(score.status):
        return score.note or score.status
    return f"{score.status}: {score.note}"


def add_v1_sections(report: Report, result: V1Result, *, weights: str = "", prefix: str = "") -> None:
    """Add the V1 panel of `result` to `report`: sections, data under "v1", and three figures."""
    sel = result.selection
    summary = [
        ["model", result.model],
        ["weights", weights or "–"],
        ["area / step", f"{result.area} / {result.step}"],
        ["units in the area", sel.total_units],
        ["units with an RF", sel.mapped_units],
        ["units centred within 0.15 deg (selected)", sel.in_rf],
        ["units measured", len(sel.units)],
        [
            "firing-rate map",
            f"{result.rate_map.slope:.4g} x activation + {result.rate_map.offset:.4g} spikes/s "
            f"({result.rate_map.responsive_units} responsive units)",
        ],
        [
            "seconds: stimuli / forward / analysis",
            " / ".join(f"{result.seconds[k]:.1f}" for k in ("stimuli", "forward", "analysis")),
        ],
    ]
    report.add_section(f"{prefix}V1 panel: {result.model}", markdown_table(["", ""], summary))
    report.add_section(
        f"{prefix}V1 groups (mean of the scored benchmarks)",
        markdown_table(
            ["group", "score", "benchmarks scored"],
            [[g.group, _number(g.score), f"{g.scored} of {g.benchmarks}"] for g in result.groups],
        ),
    )
    rows = []
    for s in result.scores:
        rows.append(
            [
                s.property,
                s.dataset,
                _number(s.score),
                _number(s.raw),
                _number(s.ceiling),
                _number(s.model_median),
                _number(s.data_median),
                s.units if s.status != NOT_MEASURED else "–",
                _status(s),
            ]
        )
    report.add_section(
        f"{prefix}V1 properties (score = raw KS similarity / ceiling)",
        markdown_table(
            ["property", "dataset", "score", "raw", "ceiling", "model median", "data median", "units", "status"], rows
        ),
    )
    report.data["v1"] = {
        "model": result.model,
        "area": result.area,
        "step": result.step,
        "seed": result.seed,
        "weights": weights,
        "selection": {
            "total_units": sel.total_units,
            "mapped_units": sel.mapped_units,
            "in_rf": sel.in_rf,
            "measured": len(sel.units),
        },
        "rate_map": result.rate_map,
        "seconds": result.seconds,
        "groups": result.groups,
        "properties": result.scores,
    }
    report.add_figure(
        f"{prefix}v1_tuning_curves".replace(" ", "_"),
        _tuning_figure(result),
        caption="Example tuning curves (orientation, SF, size)",
    )
    scored = [s for s in result.scores if s.status == SCORED]
    ringach = [s for s in result.scores if s.status == DISTRIBUTION]
    report.add_figure(
        f"{prefix}v1_histograms".replace(" ", "_"),
        _histograms_figure(scored, f"{result.model} {result.area} vs primate V1 (scored properties)"),
        caption="Model (bars) vs primate (line) distributions",
    )
    report.add_figure(
        f"{prefix}v1_ringach2002".replace(" ", "_"),
        _histograms_figure(ringach, f"{result.model} {result.area} on the Ringach 2002 bins (no public counts)"),
        caption="Model distributions on the Ringach 2002 bins",
    )


def write_v1_report(
    result: V1Result, folder: str | Path, *, weights: str = "", fingerprint: dict | None = None
) -> Path:
    """The report folder of `result`; `fingerprint` (what produced it) goes into report.json."""
    report = Report(Path(folder), f"V1 electrophysiology of {result.model} ({result.area})")
    add_v1_sections(report, result, weights=weights)
    if fingerprint is not None:
        report.data["fingerprint"] = fingerprint
    return report.write()


def v1_report(
    model: str | nn.Module,
    output: str | Path | None = None,
    *,
    pretrained: bool | str = False,
    area: str = "V1",
    max_units: int | None = 1000,
    seed: int = 0,
    batch_size: int | None = None,
    trials: int = 1,
    device: str = "auto",
    progress: bool = False,
) -> Path:
    """`brainlike v1`: measure the V1 panel of a model (a module, or a registered name built with
    `pretrained`) on `device` and write the report folder (default v1-NAME); returns the folder.
    report.json records the fingerprint (model, configuration, weights digest, settings, version);
    `progress` prints a line per stage of the protocol on stderr."""
    if isinstance(model, str):
        weights = "random weights" if pretrained is False else f"pretrained ({pretrained})"
        torch.manual_seed(seed)  # random weights follow the seed: a rerun measures the same network
        model = create_model(model, pretrained=pretrained)
    else:
        weights = "given model"
    made_by = fingerprint(model, weights=weights, area=area, max_units=max_units, seed=seed, trials=trials)
    model = model.to(pick_device(device))
    result = measure_v1(
        model, area=area, max_units=max_units, seed=seed, batch_size=batch_size, trials=trials, progress=progress
    )
    return write_v1_report(result, output or f"v1-{card_of(model).name}", weights=weights, fingerprint=made_by)
