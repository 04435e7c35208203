"""Models side by side: layer x layer similarity matrices, ordered RDMs, MDS of stimuli, a recurrent
representation's trajectory over steps, and scorecard bars and per-step profiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from brainlike.reports.figures.canvas import axes_on, grid_on, label_cells

LABELLED_CELLS = 12  # label matrix cells with their values up to this many rows and columns
LABELLED_STIMULI = 40


def _group_edges(groups: Sequence[str]) -> list[float]:
    """Positions between consecutive runs of equal group names (where to draw separating lines)."""
    return [i - 0.5 for i in range(1, len(groups)) if groups[i] != groups[i - 1]]


def similarity_matrix(
    values: np.ndarray,
    rows: Sequence[str],
    columns: Sequence[str],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    colorbar: str = "",
    higher_is_similar: bool = True,
    row_groups: Sequence[str] | None = None,
    column_groups: Sequence[str] | None = None,
    ax=None,
):
    """values[i, j]: the similarity of row layer i to column layer j (a distance when not
    `higher_is_similar`: drawn with the colour scale reversed); lines separate the groups (areas)."""
    values = np.asarray(values, dtype=float)
    width, height = 2.5 + 0.42 * len(columns), 1.5 + 0.36 * len(rows)
    figure, axis = axes_on(ax, (min(max(width, 4.5), 16), min(max(height, 3.5), 14)))
    image = axis.imshow(values, cmap="viridis" if higher_is_similar else "viridis_r", aspect="auto")
    if len(rows) <= LABELLED_CELLS and len(columns) <= LABELLED_CELLS:
        middle = np.nanmean(values) if np.isfinite(values).any() else 0.0
        label_cells(axis, values, ".2f", color=lambda v: "w" if (v < middle) == higher_is_similar else "k", fontsize=7)
    for edge in _group_edges(row_groups or []):  # a white line edged in black shows on light and dark cells
        axis.axhline(edge, color="k", linewidth=2.5)
        axis.axhline(edge, color="w", linewidth=1)
    for edge in _group_edges(column_groups or []):
        axis.axvline(edge, color="k", linewidth=2.5)
        axis.axvline(edge, color="w", linewidth=1)
    axis.set_xticks(range(len(columns)), columns, rotation=90, fontsize=7)
    axis.set_yticks(range(len(rows)), rows, fontsize=7)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axis, label=colorbar)
    if ax is None:
        figure.tight_layout()
    return figure


def ordered_rdms(
    rdms: Mapping[str, np.ndarray],
    order: Sequence[int],
    labels: Sequence[str] | None = None,
    *,
    columns: int = 4,
    size: float = 3.2,
):
    """One panel per RDM (title: its key), rows and columns in the stimulus order `order`; stimuli are
    labelled when there are few."""
    count = len(rdms)
    ncols = min(columns, count)
    nrows = -(-count // ncols)
    figure, axes = grid_on(nrows, ncols, (size * ncols, size * 0.95 * nrows))
    order = np.asarray(order)
    for axis in axes.flat[count:]:
        axis.set_axis_off()
    for axis, (title, matrix) in zip(axes.flat, rdms.items()):
        shown = np.asarray(matrix)[np.ix_(order, order)]
        image = axis.imshow(shown, cmap="magma")
        if labels is not None and len(order) <= LABELLED_STIMULI:
            names = [labels[i] for i in order]
            axis.set_xticks(range(len(order)), names, rotation=90, fontsize=6)
            axis.set_yticks(range(len(order)), names, fontsize=6)
        else:
            axis.set_xticks([])
            axis.set_yticks([])
        axis.set_title(title, fontsize=8)
        figure.colorbar(image, ax=axis, fraction=0.046)
    figure.tight_layout()
    return figure


def mds_panels(
    points: Mapping[str, np.ndarray],
    labels: Sequence[str] | None = None,
    *,
    groups: Sequence[str] | None = None,
    columns: int = 4,
    size: float = 3.0,
):
    """One scatter per layer of its stimuli's 2-D MDS coordinates (points[layer]: (stimuli, 2)), coloured
    by `groups` (e.g. categories) and labelled when there are few stimuli."""
    count = len(points)
    ncols = min(columns, count)
    nrows = -(-count // ncols)
    figure, axes = grid_on(nrows, ncols, (size * ncols, size * nrows))
    for axis in axes.flat[count:]:
        axis.set_axis_off()
    names = list(dict.fromkeys(groups)) if groups is not None else []
    colours = [names.index(g) for g in groups] if groups is not None else None
    for axis, (title, xy) in zip(axes.flat, points.items()):
        xy = np.asarray(xy, dtype=float)
        axis.scatter(xy[:, 0], xy[:, 1], c=colours, cmap="tab10" if colours is not None else None, s=14)
        if labels is not None and len(xy) <= LABELLED_STIMULI:
            for (px, py), text in zip(xy, labels):
                axis.annotate(text, (px, py), fontsize=6, xytext=(2, 2), textcoords="offset points")
        axis.set_title(title, fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_aspect("equal", adjustable="datalim")
    figure.tight_layout()
    return figure


def step_trajectory(
    curves: Mapping[str, tuple[Sequence[int], Sequence[float], Sequence[float]]],
    *,
    ylabel: str = "similarity",
    title: str = "",
    ax=None,
):
    """curves[area] = (steps, similarity to the first step, similarity to the last step): one colour per
    area, dashed to the first step and solid to the last."""
    figure, axis = axes_on(ax, (5.5, 3.6))
    for k, (area, (steps, to_first, to_last)) in enumerate(curves.items()):
        colour = f"C{k % 10}"
        axis.plot(steps, to_last, "o-", color=colour, label=f"{area}: to last step")
        axis.plot(steps, to_first, "s--", color=colour, alpha=0.7, label=f"{area}: to first step")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("time step")
    axis.set_ylabel(ylabel)
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=6, ncol=2)
    if ax is None:
        figure.tight_layout()
    return figure


def score_bars(
    models: Sequence[str],
    values: Sequence[float],
    ci_low: Sequence[float | None] | None = None,
    ci_high: Sequence[float | None] | None = None,
    *,
    ylabel: str = "score",
    title: str = "",
    ax=None,
):
    """One bar per model (NaN: left empty) with its interval where given."""
    figure, axis = axes_on(ax, (1.6 + 0.8 * len(models), 3.4))
    values = np.array([np.nan if v is None else v for v in values], dtype=float)
    positions = np.arange(len(models))
    axis.bar(positions, np.nan_to_num(values), color=[f"C{k % 10}" for k in positions])
    if ci_low is not None and ci_high is not None:
        for x, v, low, high in zip(positions, values, ci_low, ci_high):
            if low is not None and high is not None and np.isfinite(v):
                axis.plot([x, x], [low, high], color="k", linewidth=1.5)
    axis.set_xticks(
        positions, models, rotation=30 if len(models) > 3 else 0, ha="right" if len(models) > 3 else "center"
    )
    axis.set_ylabel(ylabel)
    axis.set_title(title, fontsize=9)
    if ax is None:
        figure.tight_layout()
    return figure


def step_profiles(profiles: Mapping[str, Sequence[float]], *, ylabel: str = "score", title: str = "", ax=None):
    """profiles[model]: a measurement's value at each step of the model (readout or time step)."""
    figure, axis = axes_on(ax, (5, 3.4))
    for k, (model, values) in enumerate(profiles.items()):
        axis.plot(range(len(values)), values, "o-", color=f"C{k % 10}", label=model)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("step")
    axis.set_ylabel(ylabel)
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7)
    if ax is None:
        figure.tight_layout()
    return figure
