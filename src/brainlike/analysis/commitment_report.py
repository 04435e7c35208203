"""`commit_report`: `commit_layers` as a report folder, with the commitment beside it as `commitment.json`."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch.nn as nn

from brainlike.analysis.commitment import Commitment, commit_layers
from brainlike.reports import Report, markdown_table
from brainlike.reports.figures.neural import score_heatmap

COMMITMENT_FILE = "commitment.json"
HEATMAP_ROWS = 30


def _optional(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _heatmap(result: Commitment):
    """Score per candidate (rows, the HEATMAP_ROWS best in model order) x region (columns), the committed
    cells outlined."""
    regions = list(result.regions)
    best = {}
    for s in result.scores:
        best[(s.layer, s.step)] = max(best.get((s.layer, s.step), -np.inf), s.value)
    shown = set(sorted(best, key=best.__getitem__, reverse=True)[:HEATMAP_ROWS]) | set(result.regions.values())
    candidates = [c for c in best if c in shown]
    grid = np.full((len(candidates), len(regions)), np.nan)
    for s in result.scores:
        if (s.layer, s.step) in shown:
            grid[candidates.index((s.layer, s.step)), regions.index(s.region)] = s.value
    outlined = [(candidates.index(result.regions[r]), j) for j, r in enumerate(regions)]
    labels = [f"{path} t{step}" for path, step in candidates]
    title = "held-out predictivity" + (" / ceiling" if result.scores[0].normalized is not None else "")
    return score_heatmap(
        grid, labels, regions, xlabel="region", title=title + "; outlined: committed", outlined=outlined
    )


def commit_report(
    model_or_name: str | nn.Module,
    stimuli,
    neural,
    output: str | Path,
    *,
    regions: Sequence[str] | None = None,
    candidates: Sequence[str] | None = None,
    method: str = "ridge",
    folds: int = 5,
    pool: str = "none",
    max_features: int = 1000,
    pretrained: bool | str = True,
    device: str = "auto",
    batch_size: int = 16,
    seed: int = 0,
    progress: bool = True,
) -> Path:
    """`brainlike commit`: the layers committed to each region (see `commit_layers`) as report.json,
    report.md and a heatmap of every candidate's score, and the commitment as `commitment.json`, which
    `apply_commitment(model, path)` reads."""
    result = commit_layers(
        model_or_name,
        neural,
        stimuli=stimuli,
        regions=regions,
        candidates=candidates,
        method=method,
        folds=folds,
        pool=pool,
        max_features=max_features,
        pretrained=pretrained,
        device=device,
        batch_size=batch_size,
        seed=seed,
        progress=progress,
    )
    report = Report(Path(output), f"{result.model}: layers committed to {', '.join(result.regions)} ({method})")
    best = {s.region: s for s in result.scores if result.regions[s.region] == (s.layer, s.step)}
    rows = [
        [r, s.layer, s.step, f"{s.score:.3f}", _optional(s.ceiling), _optional(s.normalized)] for r, s in best.items()
    ]
    report.add_section(
        "Committed layers",
        f"{result.settings['stimuli']} stimuli, {folds}-fold cross-validated {method} per (layer, step); "
        f"features: {'up to ' + str(max_features) + ' units' if pool == 'none' else pool + '-pooled'} per layer. "
        f"Apply with `apply_commitment(model, '{COMMITMENT_FILE}')`.\n\n"
        + markdown_table(["region", "layer", "step", "score", "ceiling", "normalised"], rows),
    )
    every = [[s.region, s.layer, s.step, f"{s.score:.3f}", _optional(s.normalized)] for s in result.scores]
    report.add_section("Every candidate", markdown_table(["region", "layer", "step", "score", "normalised"], every))
    report.data.update(model=result.model, regions=result.regions, settings=result.settings, scores=result.scores)
    report.add_figure(
        "scores", _heatmap(result), caption=f"score per candidate layer (the {HEATMAP_ROWS} best) and region"
    )
    result.save(report.folder / COMMITMENT_FILE)
    return report.write()
