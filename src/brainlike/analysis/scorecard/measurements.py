"""The registry of scorecard measurements: a name -> a function of (model, job) that returns scores.

A measurement plugs in with a few lines:

    @register_measurement("behaviour", "error consistency with humans", settings=lambda job: {"seed": job.seed})
    def behaviour(model, job):
        result = measure_behaviour(model, seed=job.seed)
        return [Score("behaviour", result.score, ceiling=result.ceiling, ci=result.ci, per_step=result.per_step)]

`settings` names what the result depends on besides the model (the model's name, configuration and a digest
of its weights are always part of the fingerprint); a cached result is reused only when all of it is equal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from brainlike.errors import BrainlikeError


@dataclass(frozen=True)
class Score:
    """One number of a model on one measurement.

    value: what the table shows and ranks; the ceiling-normalised score when `ceiled`. raw: the score
    before normalising, ceiling: the ceiling it was divided by (where one value). ci: an interval for
    `value`. per_step: `value` at each readout or time step, for recurrent models.
    """

    name: str
    value: float
    raw: float | None = None
    ceiling: float | None = None
    ceiled: bool = False
    ci: tuple[float, float] | None = None
    per_step: tuple[float, ...] | None = None
    higher_is_better: bool = True
    details: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict) -> Score:
        def number(v):
            return float("nan") if v is None else float(v)

        return cls(
            name=data["name"],
            value=number(data["value"]),
            raw=None if data.get("raw") is None else float(data["raw"]),
            ceiling=None if data.get("ceiling") is None else float(data["ceiling"]),
            ceiled=bool(data.get("ceiled", False)),
            ci=None if data.get("ci") is None else tuple(number(v) for v in data["ci"]),
            per_step=None if data.get("per_step") is None else tuple(number(v) for v in data["per_step"]),
            higher_is_better=bool(data.get("higher_is_better", True)),
            details=data.get("details") or {},
        )

    @property
    def finite(self) -> bool:
        return math.isfinite(self.value)


@dataclass(frozen=True)
class Job:
    """What one measurement of one model is run with: the suite entry's argument (the part after ':'), the
    settings every measurement of the run shares, and a folder for its own files."""

    argument: str | None
    folder: Path
    data: str = "digits"
    split: str = "val"
    limit: int | None = 200
    stimuli: str | None = None
    behaviour_stimuli: str | None = None  # None: the cache (downloaded once); "sample": the 16 shipped images
    corruptions: tuple[str, ...] = ("gaussian_noise", "motion_blur", "fog", "contrast")
    severities: tuple[int, ...] = (1, 3, 5)
    v1_units: int = 200
    seed: int = 0
    device: str = "auto"
    batch_size: int = 64
    workers: int | None = None
    input_size: int | None = None  # None: the model card's (a training checkpoint brings its own)
    preprocessing: str | None = None


@dataclass(frozen=True)
class Measurement:
    name: str
    description: str
    run: Callable[..., list[Score]]
    settings: Callable[[Job], dict]
    argument: str = "none"  # "none", "optional" or "required": whether NAME:ARGUMENT is taken


MEASUREMENTS: dict[str, Measurement] = {}


def register_measurement(
    name: str,
    description: str,
    *,
    settings: Callable[[Job], dict] = lambda job: {"seed": job.seed},
    argument: str = "none",
):
    """Decorator: make `function(model, job) -> list[Score]` the scorecard measurement `name`.

    argument: "none", "optional" or "required": whether the suite may (must) say `name:ARGUMENT`; the
    function finds it in `job.argument` (None when not given)."""
    if argument not in ("none", "optional", "required"):
        raise ValueError(f"argument is 'none', 'optional' or 'required', not {argument!r}")

    def decorate(function):
        MEASUREMENTS[name] = Measurement(name, description, function, settings, argument)
        return function

    return decorate


@dataclass(frozen=True)
class SuiteEntry:
    """One entry of a suite: a measurement and its argument ("neural:data.npz" -> neural, data.npz)."""

    measurement: Measurement
    argument: str | None

    @property
    def key(self) -> str:
        return self.measurement.name if self.argument is None else f"{self.measurement.name}:{self.argument}"


def parse_suite(suite: str | Sequence[str]) -> list[SuiteEntry]:
    """Suite entries from "v1,robustness,neural:FILE" (or a list of such entries)."""
    from brainlike.analysis.scorecard import behaviour, builtin  # noqa: F401  (they register the built-in ones)

    parts = suite.split(",") if isinstance(suite, str) else list(suite)
    entries = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        name, _, argument = part.partition(":")
        if name not in MEASUREMENTS:
            raise BrainlikeError(f"unknown measurement {name!r}; the scorecard knows {', '.join(sorted(MEASUREMENTS))}")
        measurement = MEASUREMENTS[name]
        if measurement.argument == "required" and not argument:
            raise BrainlikeError(f"{name} needs an argument: {name}:FILE")
        if argument and measurement.argument == "none":
            raise BrainlikeError(f"{name} takes no argument (got {part!r})")
        entries.append(SuiteEntry(measurement, argument or None))
    if not entries:
        raise BrainlikeError("the suite is empty; name measurements like v1,robustness,accuracy")
    keys = [e.key for e in entries]
    if len(set(keys)) != len(keys):
        raise BrainlikeError(f"the suite names a measurement twice: {', '.join(keys)}")
    return entries
