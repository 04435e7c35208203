"""A model's behaviour on one experiment next to every human observer and the three recorded CNNs, as
plain data (what report.json holds and the figures draw).

Every observer is scored on the images the model was evaluated on, so that the comparison is like for
like when categories are dropped or only part of the stimuli is at hand; on a full run of an ImageNet
model these are all images and the published numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from brainlike.analysis.behaviour.measure import BehaviourResult
from brainlike.analysis.behaviour.measures import (
    accuracy,
    consistency_with_humans,
    human_pairs,
    shape_bias,
)
from brainlike.analysis.behaviour.steps import (
    BOOTSTRAP,
    THRESHOLD,
    decision_time_correlations,
    decision_times,
    human_rt,
)
from brainlike.data.geirhos import CNNS, COLUMNS, HUMANS, load_responses

CUE_CONFLICT = "cue-conflict"


def model_label(result: BehaviourResult) -> str:
    """The model's observer name, kept apart from the recorded observers' names."""
    return result.model if result.model not in (*HUMANS, *CNNS) else f"{result.model} (model)"


def _mean(values) -> float:
    values = [v for v in values if np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def _observer_row(trials: pd.DataFrame, humans: pd.DataFrame, conflict: bool) -> dict:
    row = {
        "accuracy": accuracy(trials),
        "error_consistency": _mean(consistency_with_humans(trials, humans).to_numpy()),
    }
    if conflict:
        row["shape_bias"] = shape_bias(trials)
        by_category = shape_bias(trials, by="shape")
        row["shape_bias_per_category"] = {c: float(v) for c, v in by_category.items()}
    return row


def _per_step(result: BehaviourResult, label: str, humans: pd.DataFrame, conflict: bool) -> dict:
    steps = result.frame(step=None).assign(observer=label)
    per_step = {
        "accuracy": [float(v) for v in accuracy(steps, by="step")],
        "error_consistency": [
            _mean(consistency_with_humans(group, humans).to_numpy()) for _, group in steps.groupby("step")
        ],
    }
    if conflict:
        per_step["shape_bias"] = [float(v) for v in shape_bias(steps, by="step")]
    return per_step


def _decision_time(result: BehaviourResult, reference: pd.DataFrame, threshold: float, resamples: int, seed: int):
    times = decision_times(result.frame(step=None), threshold)
    rts = human_rt(reference)
    correlations = decision_time_correlations(times, rts, resamples=resamples, seed=seed)
    return {
        "threshold": threshold,
        "never_confident": int((times["confident_step"] == times["steps"]).sum()),
        "correlations": {k: c.as_dict() for k, c in correlations.items()},
        "per_image": {
            "image": list(times.index),
            "stable_step": times["stable_step"].tolist(),
            "confident_step": times["confident_step"].tolist(),
            "human_rt": [float(rts.get(i, np.nan)) for i in times.index],
        },
    }


def summarise(
    result: BehaviourResult, *, threshold: float = THRESHOLD, resamples: int = BOOTSTRAP, seed: int = 0
) -> dict:
    """Accuracy, error consistency with humans, (cue conflict) shape bias overall and per category, for the
    model and every recorded observer; the human ceiling; and for recurrent models the same per readout
    step and the decision times against human reaction time."""
    conflict = result.experiment == CUE_CONFLICT
    reference = load_responses(result.experiment)
    reference = reference[reference["image"].isin(set(result.images))]
    humans = reference[reference["observer"].isin(HUMANS)]
    label = model_label(result)
    model_trials = result.frame().assign(observer=label)
    observers = {}
    for name in (*HUMANS, *CNNS):
        observers[name] = {"kind": "human" if name in HUMANS else "cnn"} | _observer_row(
            reference[reference["observer"] == name], humans, conflict
        )
    observers[label] = {"kind": "model"} | _observer_row(model_trials[list(COLUMNS)], humans, conflict)
    pairs = human_pairs(humans)
    summary = {
        "experiment": result.experiment,
        "model": label,
        "images": len(result.images),
        "excluded_images": len(result.excluded),
        "unavailable_images": len(result.unavailable),
        "categories": list(result.categories),
        "dropped_categories": list(result.dropped),
        "mapping": result.mapping,
        "readout_steps": result.readout_steps,
        "human_ceiling": _mean(pairs),
        "human_pairs": {"min": float(np.min(pairs)), "max": float(np.max(pairs)), "count": len(pairs)},
        "humans": {
            "accuracy": _mean(observers[h]["accuracy"] for h in HUMANS),
            **({"shape_bias": shape_bias(humans)} if conflict else {}),
        },
        "observers": observers,
        "timings": result.timings,
    }
    if conflict:
        summary["humans"]["shape_bias_per_category"] = {c: float(v) for c, v in shape_bias(humans, by="shape").items()}
    if result.readout_steps > 1:
        summary["per_step"] = _per_step(result, label, humans, conflict)
        summary["decision_time"] = _decision_time(result, reference, threshold, resamples, seed)
    return summary
