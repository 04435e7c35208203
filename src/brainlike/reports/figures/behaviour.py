"""Behaviour against human observers (Geirhos et al. 2019 and 2020): shape bias per category in the
paper's style, accuracy and error consistency per observer against the human ceiling, measures per
readout step, and a model's decision time against human reaction time.

Observers are plain data: (label, kind, ...) with kind "human" (one observer), "humans" (their mean),
"cnn" (a recorded CNN) or "model" (the model measured).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from brainlike.reports.figures.canvas import axes_on, grid_on

HUMAN_RED = "#c8102e"
CNN_COLOURS = ("#6a3d9a", "#1f78b4", "#33a02c", "#b15928", "#a6cee3")
MODEL_COLOUR = "#111111"


def _style(kind: str, index: int) -> dict:
    if kind == "human":
        return {"color": HUMAN_RED, "marker": "o", "alpha": 0.25, "markersize": 4}
    if kind == "humans":
        return {"color": HUMAN_RED, "marker": "D", "alpha": 1.0, "markersize": 7}
    if kind == "model":
        return {"color": MODEL_COLOUR, "marker": "*", "alpha": 1.0, "markersize": 11}
    return {"color": CNN_COLOURS[index % len(CNN_COLOURS)], "marker": "s", "alpha": 0.9, "markersize": 6}


def _colour(kind: str, index: int) -> str:
    return _style(kind, index)["color"]


def shape_bias_figure(
    categories: Sequence[str],
    observers: Sequence[tuple[str, str, Sequence[float], float]],
    *,
    title: str = "",
    ax=None,
):
    """Shape bias per category, as in Geirhos et al. (2019, Fig. 4): categories down the side, the fraction of
    shape decisions along the bottom (of texture decisions along the top), one marker per observer and
    category, and a vertical line at each observer's overall shape bias (single humans: markers only).

    observers: (label, kind, shape bias per category (NaN where undefined), overall shape bias).
    """
    figure, axis = axes_on(ax, (6.2, 0.34 * len(categories) + 1.8))
    rows = np.arange(len(categories))[::-1]
    # Each row is split into lanes, so that markers of equal value stay visible: humans on top.
    others = [label for label, kind, _, _ in observers if kind not in ("human", "humans")]
    offsets = np.linspace(0.3, -0.3, len(others) + 1)
    lanes = {"humans": offsets[0], **dict(zip(others, offsets[1:]))}
    cnn_index, labelled_human = 0, False
    for label, kind, values, overall in observers:
        style = _style(kind, cnn_index)
        cnn_index += kind == "cnn"
        shown = label
        if kind == "human":
            shown = None if labelled_human else "single human observers"
            labelled_human = True
        lane = lanes["humans"] if kind in ("human", "humans") else lanes[label]
        axis.plot(np.asarray(values, dtype=float), rows + lane, linestyle="none", label=shown, **style)
        if kind != "human" and np.isfinite(overall):
            axis.axvline(overall, color=style["color"], linewidth=1.2, alpha=0.8)
    axis.set_yticks(rows, list(categories))
    axis.set_xlim(-0.02, 1.02)
    axis.set_xticks(np.linspace(0, 1, 6))
    axis.set_xlabel("fraction of 'shape' decisions")
    top = axis.secondary_xaxis("top", functions=(lambda v: 1 - v, lambda v: 1 - v))
    top.set_xlabel("fraction of 'texture' decisions")
    axis.grid(axis="x", alpha=0.3)
    axis.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, framealpha=0.9)
    axis.set_title(title, fontsize=10, pad=28 if title else 6)
    if ax is None:
        figure.tight_layout()
    return figure


def observer_bars(
    labels: Sequence[str],
    kinds: Sequence[str],
    values: Sequence[float],
    *,
    ylabel: str,
    reference: float | None = None,
    reference_label: str = "",
    ylim: tuple[float, float] | None = None,
    ax=None,
):
    """One bar per observer (coloured by kind), with an optional horizontal reference line (a ceiling)."""
    figure, axis = axes_on(ax, (0.32 * len(labels) + 2.5, 3.4))
    cnn_index, colours = 0, []
    for kind in kinds:
        colours.append(_colour("humans" if kind == "human" else kind, cnn_index))
        cnn_index += kind == "cnn"
    axis.bar(range(len(labels)), np.asarray(values, dtype=float), color=colours)
    axis.set_xticks(range(len(labels)), list(labels), rotation=70, ha="right", fontsize=7)
    if reference is not None and np.isfinite(reference):
        axis.axhline(reference, color=HUMAN_RED, linestyle="--", linewidth=1.2, label=reference_label)
        axis.legend(fontsize=7)
    axis.axhline(0, color="black", linewidth=0.6)
    axis.set_ylabel(ylabel)
    if ylim is not None:
        axis.set_ylim(*ylim)
    if ax is None:
        figure.tight_layout()
    return figure


def accuracy_consistency_figure(
    labels: Sequence[str],
    kinds: Sequence[str],
    accuracy: Sequence[float],
    consistency: Sequence[float],
    ceiling: float,
    *,
    title: str = "",
):
    """Accuracy and error consistency with the human observers (mean kappa) for every observer, the human
    ceiling (mean human-human kappa) dashed."""
    figure, axes = grid_on(1, 2, (0.6 * len(labels) + 4, 3.8))
    observer_bars(labels, kinds, accuracy, ylabel="accuracy (response = shape)", ylim=(0, 1), ax=axes[0, 0])
    observer_bars(
        labels,
        kinds,
        consistency,
        ylabel="error consistency with humans (kappa)",
        reference=ceiling,
        reference_label=f"human-human {ceiling:.2f}",
        ax=axes[0, 1],
    )
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def per_step_figure(
    series: Mapping[str, Sequence[float]],
    references: Mapping[str, float] | None = None,
    *,
    title: str = "",
    ax=None,
):
    """Each measure against readout step; a measure's human value (same colour) dashed."""
    figure, axis = axes_on(ax, (6.8, 3.4))
    for index, (name, values) in enumerate(series.items()):
        colour = CNN_COLOURS[index % len(CNN_COLOURS)]
        axis.plot(range(len(values)), np.asarray(values, dtype=float), "o-", color=colour, label=name)
        reference = (references or {}).get(name)
        if reference is not None and np.isfinite(reference):
            axis.axhline(reference, color=colour, linestyle="--", linewidth=1, label=f"{name}, humans")
    steps = max((len(v) for v in series.values()), default=0)
    axis.set_xticks(range(steps))
    axis.set_xlabel("readout step")
    axis.set_ylim(-0.05, 1.05)
    axis.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    axis.set_title(title, fontsize=10)
    if ax is None:
        figure.tight_layout()
    return figure


def decision_time_figure(
    model_steps: Sequence[int],
    human_rt: Sequence[float],
    *,
    steps: int,
    xlabel: str,
    censored: bool = False,
    annotation: str = "",
    title: str = "",
    ax=None,
):
    """Human mean reaction time per image against the model's decision step for it (points jittered
    sideways), with the mean reaction time at each step; with `censored`, step `steps` stands for "never"."""
    figure, axis = axes_on(ax, (5.2, 3.6))
    x, y = np.asarray(model_steps, dtype=float), np.asarray(human_rt, dtype=float)
    jitter = np.random.default_rng(0).uniform(-0.18, 0.18, size=len(x))
    axis.plot(x + jitter, y, "o", color=HUMAN_RED, alpha=0.25, markersize=3)
    shown = np.unique(x)
    axis.plot(shown, [y[x == s].mean() for s in shown], "D-", color=MODEL_COLOUR, label="mean per step")
    ticks = [*map(str, range(steps)), *(["never"] if censored else [])]
    axis.set_xticks(range(len(ticks)), ticks)
    axis.set_xlabel(xlabel)
    axis.set_ylabel("human mean reaction time (s)")
    if annotation:
        axis.text(0.02, 0.97, annotation, transform=axis.transAxes, va="top", fontsize=8)
    axis.legend(fontsize=7, loc="lower right")
    axis.set_title(title, fontsize=10)
    if ax is None:
        figure.tight_layout()
    return figure
