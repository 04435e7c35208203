"""Adversarial robustness: accuracy against the attack budget per norm, accuracy per readout step, and
example adversarial images with their (magnified) perturbations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from brainlike.reports.figures.canvas import axes_on, grid_on

NORM_NAMES = {"linf": "L-infinity", "l2": "L2", "l1": "L1"}


def accuracy_vs_budget(series: Sequence[Mapping], *, norm: str, ax=None):
    """One line per model: series items {"name", "epsilon": [...], "top1": [...] (%), optional "low",
    "high" (% interval)}; the first item (the model measured) is drawn with its interval."""
    figure, axis = axes_on(ax, (4.2, 3.4))
    for index, item in enumerate(series):
        epsilon, top1 = np.asarray(item["epsilon"], float), np.asarray(item["top1"], float)
        line = axis.plot(epsilon, top1, "o-" if index == 0 else "s--", label=item["name"], lw=2 if index == 0 else 1.2)
        if index == 0 and "low" in item:
            axis.fill_between(epsilon, item["low"], item["high"], color=line[0].get_color(), alpha=0.2, lw=0)
    axis.set_xlabel(f"{NORM_NAMES.get(norm, norm)} budget (pixels in [0, 1])")
    axis.set_ylabel("top-1 %")
    axis.set_ylim(0, 100)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    axis.set_title(NORM_NAMES.get(norm, norm))
    if ax is None:
        figure.tight_layout()
    return figure


def budget_panels(per_norm: Mapping[str, Sequence[Mapping]], *, title: str = ""):
    """`accuracy_vs_budget` for each norm, side by side."""
    figure, axes = grid_on(1, len(per_norm), (4.2 * len(per_norm), 3.6))
    for axis, (norm, series) in zip(axes[0], per_norm.items()):
        accuracy_vs_budget(series, norm=norm, ax=axis)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def accuracy_per_step(curves: Mapping[str, Sequence[float]], *, clean: Sequence[float], title: str = "", ax=None):
    """Top-1 (%) per readout step: the clean images and one line per budget."""
    figure, axis = axes_on(ax, (5.0, 3.6))
    steps = np.arange(len(clean))
    axis.plot(steps, clean, "k-o", lw=2, label="clean")
    for label, top1 in curves.items():
        axis.plot(steps, top1, "o-", lw=1.2, label=label)
    axis.set_xticks(steps)
    axis.set_xlabel("readout step")
    axis.set_ylabel("top-1 %")
    axis.set_ylim(0, 100)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, ncol=2)
    axis.set_title(title)
    if ax is None:
        figure.tight_layout()
    return figure


def example_grid(clean: np.ndarray, adversarial: Mapping[str, np.ndarray], *, title: str = ""):
    """Rows of examples: the clean image, then per budget the adversarial image and its perturbation
    magnified to the full grey range (mid-grey = no change). Images are (N, H, W, 3) in [0, 1]."""
    columns = 1 + 2 * len(adversarial)
    figure, axes = grid_on(len(clean), columns, (1.6 * columns, 1.7 * len(clean) + 0.4))
    for row, image in enumerate(clean):
        axes[row, 0].imshow(np.clip(image, 0, 1))
        for j, (label, images) in enumerate(adversarial.items()):
            delta = images[row] - image
            scale = np.abs(delta).max()
            axes[row, 1 + 2 * j].imshow(np.clip(images[row], 0, 1))
            axes[row, 2 + 2 * j].imshow(np.clip(0.5 + 0.5 * delta / scale if scale > 0 else 0.5 + delta, 0, 1))
            if row == 0:
                axes[row, 1 + 2 * j].set_title(label, fontsize=8)
                axes[row, 2 + 2 * j].set_title("perturbation", fontsize=8)
        if row == 0:
            axes[row, 0].set_title("clean", fontsize=8)
    for axis in axes.flat:
        axis.set_axis_off()
    figure.suptitle(title)
    figure.tight_layout()
    return figure
