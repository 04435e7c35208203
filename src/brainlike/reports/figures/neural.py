"""Neural predictivity as an annotated heatmap: areas x time steps, or layers x neural time bins."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.patches import Rectangle

from brainlike.reports.figures.canvas import axes_on, label_cells


def score_heatmap(
    grid: np.ndarray,
    rows: Sequence[str],
    columns: Sequence[str],
    *,
    xlabel: str,
    title: str = "",
    outlined: Sequence[tuple[int, int]] = (),
    ax=None,
):
    """grid[i, j]: the score of row i in column j, each cell labelled with its value (NaN: left blank);
    the cells (i, j) in `outlined` are framed in red."""
    figure, axis = axes_on(ax, (1.6 + 0.9 * len(columns), 0.8 + 0.45 * len(rows)))
    image = axis.imshow(grid, cmap="viridis", aspect="auto")
    label_cells(axis, grid, ".2f")
    for i, j in outlined:
        axis.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
    axis.set_xticks(range(len(columns)), columns, rotation=45 if len(columns) > 6 else 0)
    axis.set_yticks(range(len(rows)), rows)
    axis.set_xlabel(xlabel)
    axis.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axis)
    if ax is None:
        figure.tight_layout()
    return figure
