"""The behaviour measurement of the scorecard: the Geirhos et al. (2019) experiments against 10 humans.

`behaviour` (or `behaviour:edges`, `behaviour:silhouettes`; cue conflict by default) gives two scores:
error consistency with the human observers divided by the human-human ceiling (Geirhos et al. 2020), and,
on cue conflict, the shape bias (humans: about 0.96). Each is also given per readout step for recurrent
models. The stimuli come from the brainlike cache (downloaded once), from a local folder, or from the 16
images shipped with brainlike ("sample", for a quick look: too few for a stable score).
"""

from __future__ import annotations

from pathlib import Path

import torch.nn as nn

from brainlike.analysis.scorecard.builtin import step_values, stimuli_digest
from brainlike.analysis.scorecard.measurements import Job, Score, register_measurement
from brainlike.errors import BrainlikeError

SAMPLE = "sample"
EXPERIMENTS = ("cue-conflict", "edges", "silhouettes")


def _experiment(job: Job) -> str:
    experiment = job.argument or "cue-conflict"
    if experiment not in EXPERIMENTS:
        raise BrainlikeError(f"behaviour:{experiment}: the experiments are {', '.join(EXPERIMENTS)}")
    return experiment


def _stimuli(job: Job) -> Path | None:
    from brainlike.data.geirhos import sample_stimuli

    if job.behaviour_stimuli is None:
        return None
    if job.behaviour_stimuli == SAMPLE:
        return sample_stimuli()
    folder = Path(job.behaviour_stimuli)
    if not folder.is_dir():
        raise BrainlikeError(f"behaviour stimuli: {folder} is not a folder")
    return folder


def _settings(job: Job) -> dict:
    stimuli = _stimuli(job)
    return {
        "experiment": _experiment(job),
        "stimuli": job.behaviour_stimuli,
        "stimuli_digest": None if stimuli is None else stimuli_digest(stimuli),
        "limit": job.limit,
        "preprocessing": job.preprocessing,
        "input_size": job.input_size,
    }


@register_measurement(
    "behaviour",
    "Geirhos et al. (2019): error consistency with 10 humans / human ceiling; shape bias (behaviour:EXPERIMENT)",
    settings=_settings,
    argument="optional",
)
def behaviour(model: nn.Module, job: Job) -> list[Score]:
    from brainlike.analysis.behaviour import measure_behaviour, summarise

    experiment = _experiment(job)
    result = measure_behaviour(
        model,
        experiment,
        stimuli=_stimuli(job),
        limit=job.limit,
        input_size=job.input_size,
        preprocessing=job.preprocessing,
        batch_size=job.batch_size,
        workers=job.workers,
        device=job.device,
    )
    summary = summarise(result, seed=job.seed)
    if not summary["images"]:
        raise BrainlikeError(f"no {experiment} image could be evaluated for {summary['model']}")
    row = summary["observers"][summary["model"]]
    ceiling = summary["human_ceiling"]
    steps = summary.get("per_step", {})
    details = {
        "experiment": experiment,
        "images": summary["images"],
        "dropped_categories": summary["dropped_categories"],
        "accuracy": row["accuracy"],
        "human_accuracy": summary["humans"]["accuracy"],
    }
    scores = [
        Score(
            f"behaviour:{experiment}",
            row["error_consistency"] / ceiling,
            raw=row["error_consistency"],
            ceiling=ceiling,
            ceiled=True,
            per_step=step_values([v / ceiling for v in steps.get("error_consistency", ())]),
            details=details,
        )
    ]
    if "shape_bias" in row:
        scores.append(
            Score(
                "shape bias",
                row["shape_bias"],
                per_step=step_values(steps.get("shape_bias", ())),
                details={"humans": summary["humans"]["shape_bias"], "images": summary["images"]},
            )
        )
    return scores
