"""Top-1 under corruption, as a corruption x severity heatmap."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from brainlike.reports.figures.canvas import axes_on, label_cells


def corruption_heatmap(
    grid: np.ndarray,
    corruptions: Sequence[str],
    severities: Sequence[int],
    *,
    clean_percent: float,
    title: str = "",
    ax=None,
):
    """grid[i, j]: top-1 (%) under corruption i at severity j; each cell is labelled with its value."""
    figure, axis = axes_on(ax, (1.2 * len(severities) + 3, 0.35 * len(corruptions) + 1.5))
    image = axis.imshow(grid, vmin=0, vmax=100, cmap="viridis", aspect="auto")
    axis.set_xticks(range(len(severities)), [str(s) for s in severities])
    axis.set_yticks(range(len(corruptions)), corruptions)
    axis.set_xlabel("severity")
    label_cells(axis, grid, ".0f", color=lambda value: "white" if value < 60 else "black", fontsize=7)
    figure.colorbar(image, ax=axis, label=f"top-1 % (clean {clean_percent:.1f})")
    axis.set_title(title)
    if ax is None:
        figure.tight_layout()
    return figure
