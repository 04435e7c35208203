"""Filter banks as image grids, and sampled parameters against the histograms they were drawn from."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from brainlike.reports.figures.canvas import grid_on


def kernel_grid(kernels: Sequence[np.ndarray], titles: Sequence[str], *, columns: int = 8):
    """Each 2-D kernel in grey, titled, `columns` per row."""
    rows = -(-len(kernels) // columns)
    figure, axes = grid_on(rows, columns, (1.25 * columns, 1.35 * rows))
    for axis in axes.flat:
        axis.set_axis_off()
    for axis, kernel, title in zip(axes.flat, kernels, titles):
        axis.imshow(kernel, cmap="gray")
        axis.set_title(title, fontsize=7)
    return figure


def histogram_comparison(panels: Sequence[tuple[str, Sequence[float], np.ndarray, np.ndarray]]):
    """One panel per (label, bin edges, reference fractions, sampled fractions): paired bars per bin."""
    figure, axes = grid_on(1, len(panels), (3.5 * len(panels), 3.2))
    for axis, (label, edges, reference, sampled) in zip(axes.flat, panels):
        positions = np.arange(len(reference))
        axis.bar(positions - 0.2, reference, width=0.4, label="empirical")
        axis.bar(positions + 0.2, sampled, width=0.4, label="sampled")
        ticks = [f"{a:.3g}-{b:.3g}" for a, b in zip(edges[:-1], edges[1:])]
        axis.set_xticks(positions, ticks, rotation=60, fontsize=7)
        axis.set_title(label, fontsize=9)
    axes.flat[0].legend(fontsize=7)
    figure.tight_layout()
    return figure
