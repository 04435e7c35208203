"""Accuracy against readout step."""

from __future__ import annotations

from collections.abc import Sequence

from brainlike.reports.figures.canvas import axes_on


def accuracy_figure(top1: Sequence[float], top5: Sequence[float], *, title: str = "", ax=None):
    """Top-1 and top-5 accuracy (fractions) against readout step, in percent."""
    figure, axis = axes_on(ax, (5, 3.4))
    steps = list(range(len(top1)))
    axis.plot(steps, [100 * a for a in top1], "o-", label="top-1")
    axis.plot(steps, [100 * a for a in top5], "s--", label="top-5")
    axis.set_xlabel("readout step")
    axis.set_ylabel("accuracy (%)")
    axis.set_xticks(steps)
    axis.set_ylim(0, 100)
    axis.set_title(title)
    axis.legend()
    if ax is None:
        figure.tight_layout()
    return figure
