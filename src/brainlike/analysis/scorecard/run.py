"""`measure_scorecard`: every measurement of a suite on every model, reusing the results kept in the folder."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
import torch.nn as nn

from brainlike.analysis.scorecard.cache import entry_path, load_entry, plain, save_entry, stored_scores
from brainlike.analysis.scorecard.measurements import Job, Score, SuiteEntry, parse_suite
from brainlike.analysis.scorecard.table import Scorecard
from brainlike.errors import BrainlikeError
from brainlike.runtime.fingerprints import differences, fingerprint

MEASURED, REUSED, RECOMPUTED, FAILED = "measured", "reused", "recomputed", "failed"


@dataclass(frozen=True)
class ModelSpec:
    """A model of the scorecard: a registered name with its weights, or a module given as is."""

    label: str
    name: str | None = None
    pretrained: bool | str = True
    module: nn.Module | None = None


def _pretrained(text: str) -> bool | str:
    lowered = text.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0", "none"):
        return False
    return text


def model_specs(models, pretrained: bool | str = True) -> list[ModelSpec]:
    """Models given as "name", "name=weights" (true, false, a tag, a file or run folder), modules, or a
    mapping of label -> name or module."""
    if isinstance(models, (str, nn.Module)):
        models = [models]
    items = list(models.items()) if isinstance(models, Mapping) else [(None, m) for m in models]
    specs = []
    for label, model in items:
        if isinstance(model, nn.Module):
            card = getattr(model, "card", None)
            specs.append(ModelSpec(label or (card.name if card else type(model).__name__), module=model))
        elif isinstance(model, str):
            name, _, weights = model.partition("=")
            specs.append(ModelSpec(label or model, name, _pretrained(weights) if weights else pretrained))
        else:
            raise BrainlikeError(f"a scorecard model is a registered name or a module, not {type(model).__name__}")
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise BrainlikeError(f"two scorecard models have the same label: {', '.join(labels)}; label them apart")
    if not specs:
        raise BrainlikeError("a scorecard needs at least one model")
    return specs


def _build(spec: ModelSpec, seed: int) -> tuple[nn.Module, dict]:
    """(model, input settings): a training checkpoint also brings the image size and normalisation it used."""
    if spec.module is not None:
        return spec.module, {}
    from brainlike.registry import create_model
    from brainlike.runtime.model_setup import checkpoint_settings, training_checkpoint
    from brainlike.weights import load_state_dict

    checkpoint = training_checkpoint(spec.pretrained)
    if checkpoint is not None:
        if checkpoint.get("model_name") not in (None, spec.name):
            raise BrainlikeError(f"{spec.pretrained} holds a {checkpoint['model_name']}, not a {spec.name}")
        model = create_model(spec.name, **checkpoint["model_config"])
        load_state_dict(model, checkpoint["model"], source=str(spec.pretrained))
        chosen = checkpoint_settings(spec.pretrained)
        return model, {k: chosen[k] for k in ("input_size", "preprocessing") if k in chosen}
    with torch.random.fork_rng(devices=[]):  # random weights are the same on every rerun
        torch.manual_seed(seed)
        return create_model(spec.name, pretrained=spec.pretrained), {}


@dataclass
class _Model:
    """A scorecard model, built on first need (a fully cached rerun still builds it once for its digest)."""

    spec: ModelSpec
    seed: int
    device: torch.device
    built: nn.Module | None = None
    inputs: dict = field(default_factory=dict)

    def get(self) -> nn.Module:
        if self.built is None:
            model, self.inputs = _build(self.spec, self.seed)
            self.built = model.to(self.device)
        return self.built


@dataclass(frozen=True)
class Outcome:
    model: str
    entry: str
    status: str
    scores: list[Score] = field(default_factory=list)
    seconds: float = 0.0
    reason: str = ""


def _run_entry(model: _Model, entry: SuiteEntry, job: Job, path: Path) -> Outcome:
    built = model.get()
    job = replace(job, **model.inputs)
    settings = {**entry.measurement.settings(job), **model.inputs}
    current = plain(fingerprint(built, measurement=entry.key, **settings))
    saved = load_entry(path)
    if saved is not None and saved["fingerprint"] == current:
        return Outcome(model.spec.label, entry.key, REUSED, stored_scores(saved), saved.get("seconds", 0.0))
    reason = "; ".join(differences(saved["fingerprint"], current)[:3]) if saved is not None else ""
    started = time.perf_counter()
    torch.manual_seed(job.seed)
    try:
        scores = entry.measurement.run(built, job)
    except BrainlikeError as error:
        return Outcome(model.spec.label, entry.key, FAILED, reason=str(error))
    seconds = time.perf_counter() - started
    save_entry(path, current, scores, seconds)
    return Outcome(model.spec.label, entry.key, RECOMPUTED if saved else MEASURED, scores, seconds, reason)


def _say(outcome: Outcome) -> None:
    detail = {
        REUSED: "reused the stored result",
        MEASURED: f"measured in {outcome.seconds:.1f} s",
        RECOMPUTED: f"measured again in {outcome.seconds:.1f} s ({outcome.reason})",
        FAILED: f"failed: {outcome.reason}",
    }[outcome.status]
    print(f"[scorecard] {outcome.model} {outcome.entry}: {detail}", file=sys.stderr, flush=True)


def measure_scorecard(
    models,
    output: str | Path,
    *,
    suite: str | Sequence[str] = "v1,robustness,accuracy",
    pretrained: bool | str = True,
    data: str = "digits",
    split: str = "val",
    limit: int | None = 200,
    stimuli: str | Path | None = None,
    behaviour_stimuli: str | Path | None = None,
    corruptions: Sequence[str] = Job.corruptions,
    severities: Sequence[int] = Job.severities,
    v1_units: int = 200,
    seed: int = 0,
    device: str = "auto",
    batch_size: int = 64,
    workers: int | None = None,
    progress: bool = True,
) -> Scorecard:
    """Run each measurement of `suite` on each model, keeping every result in `output`/results with its
    fingerprint; a result whose fingerprint (model name and configuration, weights digest, settings) is
    unchanged is reused without running the model, any other is measured again (and says why).

    models: see model_specs; a training checkpoint (NAME=run/folder) is measured at the image size and
    normalisation it was trained with. suite: measurement names with their arguments, "v1,robustness,neural:FILE".
    data/split/limit: the dataset accuracy and robustness use (limit: evenly spaced images; None: all).
    stimuli: the images of neural:FILE entries. behaviour_stimuli: a folder of the Geirhos et al. (2019)
    stimuli, "sample" for the 16 shipped ones, None to download them into the cache once.
    """
    from brainlike.runtime.devices import pick_device

    entries = parse_suite(suite)
    specs = model_specs(models, pretrained)
    output = Path(output)
    base = Job(
        None,
        output,
        data=str(data),
        split=split,
        limit=limit,
        stimuli=None if stimuli is None else str(stimuli),
        behaviour_stimuli=None if behaviour_stimuli is None else str(behaviour_stimuli),
        corruptions=tuple(corruptions),
        severities=tuple(int(s) for s in severities),
        v1_units=v1_units,
        seed=seed,
        device=device,
        batch_size=batch_size,
        workers=workers,
    )
    chosen = pick_device(device)
    outcomes = []
    for spec in specs:
        model = _Model(spec, seed, chosen)
        for entry in entries:
            path = entry_path(output, spec.label, entry.key)
            job = replace(base, argument=entry.argument, folder=path.with_suffix(""))
            outcome = _run_entry(model, entry, job, path)
            if progress:
                _say(outcome)
            outcomes.append(outcome)
        model.built = None  # one model in memory at a time
    return Scorecard([s.label for s in specs], [e.key for e in entries], outcomes)
