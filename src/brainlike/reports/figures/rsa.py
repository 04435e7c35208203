"""Representational dissimilarity matrices side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from brainlike.reports.figures.canvas import grid_on


def rdm_figure(rdms: Mapping[str, np.ndarray], labels: Sequence[str], *, size: float = 4.5):
    """One panel per RDM (title: its key), stimuli labelled on both axes."""
    figure, axes = grid_on(1, len(rdms), (size * len(rdms), size * 0.9))
    for axis, (title, matrix) in zip(axes.flat, rdms.items()):
        image = axis.imshow(matrix, cmap="magma")
        axis.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        axis.set_yticks(range(len(labels)), labels, fontsize=7)
        axis.set_title(title, fontsize=9)
        figure.colorbar(image, ax=axis, fraction=0.046)
    return figure
