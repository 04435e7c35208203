"""Figures without pyplot: the library never switches a user's matplotlib backend or keeps figures open.

Every figure function takes its data and an optional Axes and returns the Figure it drew on: with
`ax`, the caller's figure (a notebook cell, a subplot of a larger figure); without, a new one.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure of its own (no pyplot state, no backend change); saving it as PNG uses Agg."""
    return Figure(figsize=figsize)


def axes_on(ax, figsize: tuple[float, float]):
    """(figure, axes): the figure `ax` belongs to, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    figure = new_figure(figsize)
    return figure, figure.add_subplot()


def label_cells(axis, grid: np.ndarray, fmt: str, *, color=lambda value: "w", fontsize: float = 8) -> None:
    """Write each finite value of an image-shown grid into its cell (NaN cells stay blank)."""
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value):
            axis.text(j, i, format(value, fmt), ha="center", va="center", color=color(value), fontsize=fontsize)


def grid_on(rows: int, columns: int, figsize: tuple[float, float]):
    """(figure, 2-D array of axes) on a new figure."""
    figure = new_figure(figsize)
    return figure, figure.subplots(rows, columns, squeeze=False)
