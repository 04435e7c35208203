"""`behaviour_report(model_or_name, output)`: a model against the human observers and CNNs of Geirhos et
al. (2019) on the cue-conflict, edge and silhouette experiments, as a report folder."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from brainlike.analysis.behaviour.measure import measure_behaviour
from brainlike.analysis.behaviour.steps import BOOTSTRAP, THRESHOLD
from brainlike.analysis.behaviour.summary import CUE_CONFLICT, summarise
from brainlike.data.geirhos import CITATION, CNNS, HUMANS, experiment_names
from brainlike.registry import create_model
from brainlike.reports import Report, markdown_table
from brainlike.reports.figures.behaviour import (
    accuracy_consistency_figure,
    decision_time_figure,
    per_step_figure,
    shape_bias_figure,
)
from brainlike.runtime.fingerprints import fingerprint

CNN_NAMES = {"alexnet": "AlexNet", "googlenet": "GoogLeNet", "vgg": "VGG-16"}

CORRELATION_NOTE = (
    "What this correlation can show: whether the images on which the model settles late (or becomes "
    "confident late) are the ones on which people answer slowly, i.e. whether model and humans find the "
    "same images hard in time, beyond finding them hard at all. What it cannot show: that a readout step "
    "corresponds to a number of milliseconds, or that the model's recurrence is the mechanism behind human "
    "reaction times. The human times include motor response and the 200 ms presentation with a noise "
    "mask; both decision-time measures are coarse (few steps, many ties); and difficulty alone (images "
    "that many observers get wrong tend to be slow and unsettled) can produce a positive correlation "
    "without any shared dynamics. The interval is a percentile bootstrap over images (humans fixed)."
)


def _f(value, digits: int = 3) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{round(value, digits) + 0.0:.{digits}f}"


def _label(name: str) -> str:
    return CNN_NAMES.get(name, name)


def _observer_table(summary: dict, conflict: bool) -> str:
    headers = ["observer", "accuracy", "error consistency with humans"] + (["shape bias"] if conflict else [])
    rows = []
    for name, row in summary["observers"].items():
        cells = [_label(name), _f(row["accuracy"]), _f(row["error_consistency"])]
        rows.append(cells + ([_f(row["shape_bias"])] if conflict else []))
    humans = summary["humans"]
    rows.append(
        ["humans (mean)", _f(humans["accuracy"]), _f(summary["human_ceiling"])]
        + ([_f(humans["shape_bias"])] if conflict else [])
    )
    return markdown_table(headers, rows)


def _overview(summary: dict) -> str:
    model = summary["observers"][summary["model"]]
    lines = [
        f"{summary['images']} images evaluated ({summary['mapping']}).",
        f"Accuracy {_f(model['accuracy'])} (humans {_f(summary['humans']['accuracy'])}); error consistency "
        f"with humans {_f(model['error_consistency'])} against a human-human ceiling of "
        f"{_f(summary['human_ceiling'])} (pairs {_f(summary['human_pairs']['min'])} to "
        f"{_f(summary['human_pairs']['max'])}).",
    ]
    if "shape_bias" in model:
        lines.append(f"Shape bias {_f(model['shape_bias'])} (humans {_f(summary['humans']['shape_bias'])}).")
    if summary["excluded_images"]:
        lines.append(f"{summary['excluded_images']} images have a shape or texture the model lacks and are left out.")
    if summary["unavailable_images"]:
        lines.append(f"{summary['unavailable_images']} stimuli were not in the given folder and are left out.")
    lines.append("Every observer is scored on the same images as the model.")
    return " ".join(lines)


def _shape_bias_figure(report: Report, summary: dict, name: str) -> None:
    categories = list(summary["humans"]["shape_bias_per_category"])
    observers = []
    for observer, row in summary["observers"].items():
        if row["kind"] == "human":
            observers.append(
                (
                    observer,
                    "human",
                    [row["shape_bias_per_category"].get(c, np.nan) for c in categories],
                    row["shape_bias"],
                )
            )
    humans = summary["humans"]
    observers.append(
        ("humans (mean)", "humans", list(humans["shape_bias_per_category"].values()), humans["shape_bias"])
    )
    for observer, row in summary["observers"].items():
        if row["kind"] != "human":
            values = [row["shape_bias_per_category"].get(c, np.nan) for c in categories]
            observers.append((_label(observer), row["kind"], values, row["shape_bias"]))
    figure = shape_bias_figure(categories, observers, title=f"{summary['model']}: shape bias per category")
    report.add_figure(f"{name}_shape_bias", figure, caption="shape bias per category (Geirhos et al. 2019, Fig. 4)")


def _comparison_figure(report: Report, summary: dict, name: str) -> None:
    rows = summary["observers"]
    figure = accuracy_consistency_figure(
        [_label(n) for n in rows],
        [r["kind"] for r in rows.values()],
        [r["accuracy"] for r in rows.values()],
        [r["error_consistency"] for r in rows.values()],
        summary["human_ceiling"],
        title=f"{name}: accuracy and error consistency with humans",
    )
    report.add_figure(
        f"{name}_consistency", figure, caption=f"{name}: accuracy and error consistency vs the human ceiling"
    )


def _steps_section(report: Report, summary: dict, name: str) -> None:
    per_step, timing = summary["per_step"], summary["decision_time"]
    references = {"accuracy": summary["humans"]["accuracy"], "error_consistency": summary["human_ceiling"]}
    if "shape_bias" in per_step:
        references["shape_bias"] = summary["humans"]["shape_bias"]
    report.add_figure(
        f"{name}_per_step",
        per_step_figure(per_step, references, title=f"{summary['model']} on {name}, per readout step"),
        caption=f"{name}: measures per readout step (dashed: humans)",
    )
    steps = summary["readout_steps"]
    headers = ["readout step", *(m.replace("_", " ") for m in per_step)]
    rows = [[t, *(_f(per_step[m][t]) for m in per_step)] for t in range(steps)]
    correlations = timing["correlations"]
    lines = [
        markdown_table(headers, rows),
        f"Decision time per image: the first step from which the decision no longer changes (`stable_step`), "
        f"and the first step at which the decided category's probability among the covered categories reaches "
        f"{timing['threshold']:g} (`confident_step`; {timing['never_confident']} images never do and count as "
        f"step {steps}).",
        markdown_table(
            [
                "decision time",
                "Spearman rho with human mean RT",
                f"{100 * correlations['stable_step']['level']:.0f} % interval",
                "images",
            ],
            [[k, _f(c["rho"]), f"{_f(c['low'])} to {_f(c['high'])}", c["images"]] for k, c in correlations.items()],
        ),
        CORRELATION_NOTE,
    ]
    report.add_section(f"{name}: per readout step", "\n\n".join(lines))
    per_image = timing["per_image"]
    for key in ("stable_step", "confident_step"):
        c = correlations[key]
        figure = decision_time_figure(
            per_image[key],
            per_image["human_rt"],
            steps=steps,
            xlabel=f"model {key.replace('_', ' ')}",
            censored=key == "confident_step",
            annotation=f"Spearman rho {_f(c['rho'], 2)} [{_f(c['low'], 2)}, {_f(c['high'], 2)}], n = {c['images']}",
            title=f"{summary['model']} on {name}: decision time vs human RT",
        )
        report.add_figure(f"{name}_{key}_vs_rt", figure, caption=f"{name}: {key.replace('_', ' ')} vs human RT")


def write_behaviour_report(summaries: Iterable[dict], folder: str | Path, *, details: Mapping | None = None) -> Path:
    """Write report.json, report.md and the figures for the experiment summaries of one model."""
    summaries = list(summaries)
    report = Report(Path(folder), f"Behaviour of {summaries[0]['model']} against human observers")
    report.data.update(
        {**(details or {}), "citation": CITATION, "experiments": {s["experiment"]: s for s in summaries}}
    )
    for summary in summaries:
        name, conflict = summary["experiment"], summary["experiment"] == CUE_CONFLICT
        report.add_section(f"{name}: overview", _overview(summary))
        report.add_section(f"{name}: observers", _observer_table(summary, conflict))
        if conflict:
            _shape_bias_figure(report, summary, name)
        _comparison_figure(report, summary, name)
        if "per_step" in summary:
            _steps_section(report, summary, name)
    report.add_section(
        "Data",
        f"Trials of {len(HUMANS)} human observers and the CNNs {', '.join(_label(c) for c in CNNS)} from {CITATION} "
        "Stimuli CC BY 4.0. Error consistency: Geirhos, Meding & Wichmann (2020), NeurIPS.",
    )
    return report.write()


def behaviour_report(
    model: str | nn.Module,
    output: str | Path,
    *,
    experiment: str | Iterable[str] = CUE_CONFLICT,
    stimuli: str | os.PathLike | None = None,
    mapping: str | os.PathLike | Mapping | None = None,
    pretrained: bool | str = True,
    device: str = "auto",
    precision: str = "fp32",
    batch_size: int = 64,
    workers: int | None = None,
    seed: int = 0,
    limit: int | None = None,
    threshold: float = THRESHOLD,
    resamples: int = BOOTSTRAP,
    download: bool = True,
    progress: bool = True,
    **model_config,
) -> Path:
    """`brainlike behaviour`: measure a model (a module, or a registered name built with `pretrained`) on
    one or all experiments ("cue-conflict", "edges", "silhouettes", "all") and write a report to `output`.

    stimuli: a local stimulus folder (default: downloaded into the cache); limit: an evenly spaced subset
    of this many images per experiment; threshold: the confidence of a model's decision time; resamples
    and seed: the bootstrap of the decision-time correlation.
    """
    names = experiment_names(experiment)
    if isinstance(model, str):
        torch.manual_seed(seed)  # random weights follow the seed: a rerun measures the same network
        model = create_model(model, pretrained=pretrained, **model_config)
    summaries = []
    settings = {
        "experiments": list(names),
        "stimuli": str(stimuli) if stimuli else "download cache",
        "mapping": mapping if mapping is None or isinstance(mapping, Mapping) else str(mapping),
        "limit": limit,
        "threshold": threshold,
        "resamples": resamples,
        "seed": seed,
        "precision": precision,
    }
    made_by = fingerprint(model, pretrained=pretrained, **settings)  # before the model moves to `device`
    for name in names:
        result = measure_behaviour(
            model,
            name,
            stimuli=stimuli,
            limit=limit,
            mapping=mapping,
            batch_size=batch_size,
            workers=workers,
            device=device,
            precision=precision,
            download=download,
            progress=progress,
        )
        summaries.append(summarise(result, threshold=threshold, resamples=resamples, seed=seed))
    details = {
        "pretrained": str(pretrained),
        "stimuli": settings["stimuli"],
        "seed": seed,
        "fingerprint": made_by,
    }
    return write_behaviour_report(summaries, output, details=details)
