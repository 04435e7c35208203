"""CALC figures: FLNe of a system against its fitted network, and a fitted network's layer graph."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from brainlike.reports.figures.canvas import axes_on, grid_on

# the colour scale's lower end when no matrix entry is finite
_EMPTY_LOW = -6


def flne_figure(names: Sequence[str], system: np.ndarray, network: np.ndarray, *, ax=None):
    """log10 FLNe of the system and of the network side by side.

    `system[i, j]` and `network[i, j]` are log10 FLNe from layer j to layer i (both indexed by
    `names`), NaN where there is no inter-area projection. `ax`: two Axes to draw on (default: a new figure).
    """
    if ax is None:
        figure, grid = grid_on(1, 2, (12, 5.5))
        axes = list(grid[0])
    else:
        axes = list(ax)
        figure = axes[0].figure
    finite = np.concatenate([m[np.isfinite(m)] for m in (system, network)])
    low = finite.min() if finite.size else _EMPTY_LOW
    for axis, matrix, title in zip(axes, (system, network), ("system (FLNe)", "fitted network")):
        image = axis.imshow(matrix, vmin=low, vmax=0, cmap="viridis")
        axis.set_title(f"log10 {title}")
        axis.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
        axis.set_yticks(range(len(names)), names, fontsize=6)
        axis.set_xlabel("source")
    axes[0].set_ylabel("target")
    figure.colorbar(image, ax=axes, shrink=0.7)
    return figure


def layer_graph_figure(
    positions: Mapping[str, tuple[float, float]], edges: Sequence[tuple[str, str, bool]], *, ax=None
):
    """Layers as labelled boxes at `positions` (x: depth, from 0), `edges` (pre, post, inter-area) as
    arrows: blue between areas, orange between the layers of one area."""
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    figure, axis = axes_on(ax, (max(6, 0.9 * (max(xs) + 1)), 6))
    for pre, post, inter_area in edges:
        axis.annotate(
            "",
            positions[post],
            positions[pre],
            arrowprops={"arrowstyle": "->", "alpha": 0.4, "color": "C0" if inter_area else "C1"},
        )
    for name, (x, y) in positions.items():
        axis.text(x, y, name, ha="center", va="center", fontsize=6, bbox={"boxstyle": "round", "fc": "white"})
    axis.set_xlim(-0.5, max(xs) + 0.5)
    axis.set_ylim(min(ys) - 1, max(ys) + 1)
    axis.axis("off")
    axis.set_title("layers (blue: inter-area, orange: inter-laminar)")
    return figure
