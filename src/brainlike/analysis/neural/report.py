"""`compare_report`: the scores of every layer against neural data as a report folder."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from brainlike.analysis.features import stimulus_ids
from brainlike.analysis.neural.compare import LayerScore, compare_features
from brainlike.analysis.neural.data import load_neural
from brainlike.registry import TimeBin
from brainlike.reports import Report, markdown_table
from brainlike.reports.figures.neural import score_heatmap


def _bin_label(time_bin: TimeBin) -> str:
    return f"{time_bin[0]:g}-{time_bin[1]:g}"


def _step_heatmap(scores: Sequence[LayerScore], title: str):
    """Score per area (rows) x time step (columns); blank where an area has no such step."""
    areas = list(dict.fromkeys(s.area for s in scores))
    steps = max(s.step for s in scores) + 1
    grid = np.full((len(areas), steps), np.nan)
    for s in scores:
        grid[areas.index(s.area), s.step] = s.value
    return score_heatmap(grid, areas, [f"t{t}" for t in range(steps)], xlabel="time step", title=title)


def _time_bin_heatmap(scores: Sequence[LayerScore], title: str):
    """Score per layer (rows) x neural time bin (columns); the time-matched cells outlined."""
    layers = list(dict.fromkeys(s.layer for s in scores))
    bins = list(dict.fromkeys(s.neural_bin_ms for s in scores))
    grid = np.full((len(layers), len(bins)), np.nan)
    outlined = []
    for s in scores:
        i, j = layers.index(s.layer), bins.index(s.neural_bin_ms)
        grid[i, j] = s.value
        if s.time_matched:
            outlined.append((i, j))
    return score_heatmap(
        grid,
        layers,
        [_bin_label(b) for b in bins],
        xlabel="neural time bin (ms)",
        title=title + "; outlined: the model's time mapping",
        outlined=outlined,
    )


def _time_mapping_table(scores: Sequence[LayerScore]) -> str:
    """Per neural bin: the best layer, and each area's score at the step the time mapping assigns to it."""
    areas = list(dict.fromkeys(s.area for s in scores))
    rows = []
    for neural_bin in dict.fromkeys(s.neural_bin_ms for s in scores):
        in_bin = [s for s in scores if s.neural_bin_ms == neural_bin]
        best = max(in_bin, key=lambda s: s.value)
        mapped = {s.area: s for s in in_bin if s.time_matched}
        rows.append(
            [_bin_label(neural_bin), f"{best.layer} ({best.value:.3f})"]
            + [f"t{mapped[a].step}: {mapped[a].value:.3f}" if a in mapped else "-" for a in areas]
        )
    return markdown_table(["neural bin ms", "best layer (score)", *areas], rows)


def _scores_table(scores: Sequence[LayerScore], binned: bool) -> str:
    rows = [
        [s.layer, s.area, s.step, "-" if s.time_bin_ms is None else _bin_label(s.time_bin_ms)]
        + ([_bin_label(s.neural_bin_ms), "yes" if s.time_matched else ""] if binned else [])
        + [
            s.score,
            "-" if s.ceiling is None else s.ceiling,
            "-" if s.normalized is None else s.normalized,
            "-" if s.ci is None else f"{s.ci[0]:.3f}..{s.ci[1]:.3f}",
        ]
        for s in scores
    ]
    header = (
        ["layer", "area", "step", "time bin ms"]
        + (["neural bin ms", "time-matched"] if binned else [])
        + ["score", "ceiling", "normalised", "95% CI"]
    )
    return markdown_table(header, rows)


def _add_sections(report: Report, scores: Sequence[LayerScore], best: LayerScore, *, binned: bool) -> None:
    report.add_section(
        "Best layer",
        f"{best.layer} ({best.area}, step {best.step}"
        + (f", neural bin {_bin_label(best.neural_bin_ms)} ms" if binned else "")
        + f"): score {best.score:.3f}"
        + (f", ceiling-normalised {best.normalized:.3f}" if best.normalized is not None else ""),
    )
    if binned:
        report.add_section(
            "Per neural time bin",
            "The best layer in each bin, and each area's score at the step "
            "the model's time mapping assigns to the bin (the step whose committed bin starts "
            "nearest):\n\n" + _time_mapping_table(scores),
        )
    report.add_section("Scores per area and time step", _scores_table(scores, binned))
    if scores[0].ceiling is None:
        report.add_section(
            "Noise ceiling",
            "The neural data has one repetition per stimulus, so no ceiling "
            "was estimated and the heatmaps show raw scores.",
        )


def compare_report(
    features: str | Path,
    neural: str | Path,
    output: str | Path,
    *,
    method: str = "ridge",
    folds: int = 5,
    seed: int = 0,
    bootstrap: int = 100,
    progress: bool = True,
) -> Path:
    """`brainlike compare`: scores per area and step (and neural time bin, where the recordings have them)
    as report.json, report.md and heatmap PNGs."""
    data = load_neural(neural)
    scores = compare_features(
        features, data, method=method, folds=folds, seed=seed, bootstrap=bootstrap, progress=progress
    )
    scored = {
        "stimuli": len(data.stimulus_ids),
        "feature_stimuli": len(stimulus_ids(features)),
        "neuroids": len(data.neuroid_ids),
        "repetitions": data.repetitions,
        "time_bins": len(data.time_bins_ms) or None,
    }
    what = "RDM Spearman rho" if method == "rsa" else f"{method} predictivity (median Pearson r)"
    binned = scores[0].neural_bin_ms is not None
    report = Report(Path(output), f"{Path(features).name} vs {Path(neural).name}: {what}")
    best = max(scores, key=lambda s: s.value)
    report.add_section(
        "Data scored",
        f"{scored['stimuli']} stimuli (of {scored['feature_stimuli']} in the features file), "
        f"{scored['neuroids']} neuroids, {scored['repetitions']} repetition(s)"
        + (f", {scored['time_bins']} time bins" if scored["time_bins"] else "")
        + "; folds and resamples follow the features file's stimulus order.",
    )
    _add_sections(report, scores, best, binned=binned)
    report.data.update(
        scored=scored,
        method=method,
        folds=folds,
        seed=seed,
        features=str(features),
        neural=str(neural),
        best_layer=best.layer,
        scores=scores,
    )
    title = what + (" / ceiling" if scores[0].ceiling is not None else "")
    if binned:
        report.data["best_neural_bin_ms"] = best.neural_bin_ms
        report.add_figure("scores", _time_bin_heatmap(scores, title), caption=f"{what} per layer and neural time bin")
    else:
        report.add_figure("scores", _step_heatmap(scores, title), caption=f"{what} per area and time step")
    return report.write()
