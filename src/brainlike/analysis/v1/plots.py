"""Figures of the V1 panel: example tuning curves, and model histograms over the primate ones."""

from __future__ import annotations

import math

import numpy as np

from brainlike.analysis.v1.scoring import NOT_MEASURED, SCORED, PropertyScore

CURVE_LABELS = {
    "orientation": ("orientation (deg)", False),
    "spatial_frequency": ("spatial frequency (cpd)", True),
    "size": ("grating diameter (deg)", True),
}


def example_units(result, count: int = 6) -> np.ndarray:
    """The most responsive units that every response criterion keeps (or any kept units)."""
    kept = np.logical_and.reduce(
        [result.kept[p] for p in ("max_dc", "peak_spatial_frequency", "surround_suppression_index")]
    )
    pool = np.flatnonzero(kept) if kept.any() else np.flatnonzero(result.kept["max_dc"])
    order = np.argsort(-result.values["max_dc"][pool])
    return pool[order[:count]]


def tuning_figure(result, count: int = 6):
    import matplotlib.pyplot as plt

    units = example_units(result, count)
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for axis, (kind, (label, log)) in zip(axes, CURVE_LABELS.items()):
        for u in units:
            axis.plot(
                result.axes[kind],
                result.curves[kind][u],
                marker="o",
                markersize=3,
                label=f"unit {result.selection.units[u]}",
            )
        axis.set_xlabel(label)
        axis.set_ylabel("spikes/s" if kind == "orientation" else "spikes/s (DC - baseline or F1)")
        if log:
            axis.set_xscale("log")
        axis.set_title(f"{kind.replace('_', ' ')} tuning")
    if len(units):
        axes[0].legend(fontsize=7)
    figure.suptitle(f"{result.model} {result.area}: example units at their preferred stimulus")
    figure.tight_layout()
    return figure


def _bars(axis, score: PropertyScore) -> None:
    bins = np.asarray(score.bins)
    log = (
        bins[0] > 0
        and np.allclose(np.diff(np.log2(bins)), np.log2(bins[1] / bins[0]), rtol=0.2)
        and bins[-1] / bins[0] > 8
    )
    edges = np.log2(bins) if log else bins
    widths = np.diff(edges)
    model = np.asarray(score.model_counts, dtype=float)
    if model.sum():
        axis.bar(edges[:-1], model / model.sum(), widths, align="edge", alpha=0.5, color="tab:orange", label="model")
    if score.data_counts is not None:
        data = np.asarray(score.data_counts, dtype=float)
        axis.stairs(data / data.sum(), edges, color="black", linewidth=1.5, label="primate")
    axis.set_xlabel(f"{score.property}" + (" (log2)" if log else ""), fontsize=7)
    title = f"{score.dataset}"
    if score.status == SCORED:
        title += f"  score {score.score:.2f}"
    axis.set_title(title, fontsize=8)
    axis.tick_params(labelsize=7)


def histograms_figure(scores: list[PropertyScore], title: str):
    import matplotlib.pyplot as plt

    shown = [s for s in scores if s.status != NOT_MEASURED]
    columns = 4
    rows = max(1, math.ceil(len(shown) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.5 * rows), squeeze=False)
    for axis, score in zip(axes.flat, shown):
        _bars(axis, score)
    for axis in list(axes.flat)[len(shown) :]:
        axis.axis("off")
    if shown:
        axes.flat[0].legend(fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    return figure
