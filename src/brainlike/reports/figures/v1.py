"""The V1 panel: example tuning curves, and model property distributions over the primate ones."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from brainlike.reports.figures.canvas import axes_on, grid_on


def tuning_curves(
    x: Sequence[float],
    curves: Sequence[Sequence[float]],
    *,
    labels: Sequence[str],
    xlabel: str,
    ylabel: str,
    log_x: bool = False,
    title: str = "",
    legend: bool = False,
    ax=None,
):
    """curves[k]: the responses of unit k (labelled labels[k]) at the stimulus values x."""
    figure, axis = axes_on(ax, (4.3, 3.6))
    for curve, label in zip(curves, labels):
        axis.plot(x, curve, marker="o", markersize=3, label=label)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    if log_x:
        axis.set_xscale("log")
    axis.set_title(title)
    if legend and len(labels):
        axis.legend(fontsize=7)
    if ax is None:
        figure.tight_layout()
    return figure


def tuning_figure(panels: Sequence[Mapping], *, labels: Sequence[str], title: str):
    """One row of `tuning_curves` panels, each given by its keyword arguments but `labels`, which all
    panels share; the legend is on the first."""
    figure, axes = grid_on(1, len(panels), (13 / 3 * len(panels), 3.6))
    for k, (axis, panel) in enumerate(zip(axes[0], panels)):
        tuning_curves(**panel, labels=labels, legend=k == 0, ax=axis)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def _log_spaced(bins: np.ndarray) -> bool:
    return bool(
        bins[0] > 0
        and np.allclose(np.diff(np.log2(bins)), np.log2(bins[1] / bins[0]), rtol=0.2)
        and bins[-1] / bins[0] > 8
    )


def property_histogram(
    bins: Sequence[float],
    model_counts: Sequence[float],
    data_counts: Sequence[float] | None = None,
    *,
    name: str,
    title: str = "",
    ax=None,
):
    """The model's counts per bin (bars) and the primate counts (line, where published), each as a
    fraction of its total; `bins` are the edges, on a log2 axis when they are spaced logarithmically."""
    figure, axis = axes_on(ax, (3.2, 2.5))
    bins = np.asarray(bins, dtype=float)
    log = _log_spaced(bins)
    edges = np.log2(bins) if log else bins
    model = np.asarray(model_counts, dtype=float)
    if model.sum():
        axis.bar(
            edges[:-1], model / model.sum(), np.diff(edges), align="edge", alpha=0.5, color="tab:orange", label="model"
        )
    if data_counts is not None:
        data = np.asarray(data_counts, dtype=float)
        axis.stairs(data / data.sum(), edges, color="black", linewidth=1.5, label="primate")
    axis.set_xlabel(name + (" (log2)" if log else ""), fontsize=7)
    axis.set_title(title, fontsize=8)
    axis.tick_params(labelsize=7)
    if ax is None:
        figure.tight_layout()
    return figure


def histograms_figure(panels: Sequence[Mapping], *, title: str, columns: int = 4):
    """A grid of `property_histogram` panels, each given by its keyword arguments; the legend on the first."""
    rows = max(1, math.ceil(len(panels) / columns))
    figure, axes = grid_on(rows, columns, (3.2 * columns, 2.5 * rows))
    for axis, panel in zip(axes.flat, panels):
        property_histogram(**panel, ax=axis)
    for axis in list(axes.flat)[len(panels) :]:
        axis.axis("off")
    if panels:
        axes.flat[0].legend(fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    return figure
