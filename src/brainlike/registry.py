"""The model registry: builder functions, their metadata cards, and `create_model`.

A model family registers each published variant with `@register_model(name, card=...)`. The card is
kept apart from the builder: it says what the model is (areas, taps, time steps, visual degrees,
weights, citation) without building it. A card may depend on the constructor arguments (the number
of time steps of CORnet-R, say), so `card` can be a function of the same keyword arguments as the
builder.
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

import torch.nn as nn

from brainlike.errors import BrainlikeError
from brainlike.weights import WeightSpec, load_pretrained, resolve_weights

TimeBin = tuple[float, float]

# When each area's feed-forward response starts, in ms after stimulus onset: the latencies Brain-Score
# commits CORnet-style V1/V2/V4/IT models to (brainscore_vision's temporal model wrappers).
BRAINSCORE_LATENCIES_MS = {"V1": 50, "V2": 70, "V4": 90, "IT": 100}


def uniform_bins(start_ms: float, step_ms: float, steps: int) -> tuple[TimeBin, ...]:
    """Consecutive bins of `step_ms` starting at `start_ms`: step t -> (start + t*step, start + (t+1)*step)."""
    return tuple((start_ms + t * step_ms, start_ms + (t + 1) * step_ms) for t in range(steps))


def nearest_step(time_bins: Mapping[int, TimeBin | None], requested: TimeBin) -> int | None:
    """The step whose committed bin starts nearest to the requested bin's start (the earlier step on a tie),
    as Brain-Score's temporal wrappers map recording bins to model steps; None if no step is committed."""
    committed = sorted((t, b) for t, b in time_bins.items() if b is not None)
    if not committed:
        return None
    return min(committed, key=lambda tb: abs(tb[1][0] - requested[0]))[0]


@dataclass(frozen=True)
class Area:
    """One cortical area of a model: where its activations pass, and when.

    `taps` maps a stream name to the module path of the `nn.Identity` the stream passes through once
    per time step (`{"output": "V1.output"}` for single-stream models; BLT-VS has "bu" and "td").
    `time_bins[t]` is the (start, end) in ms after stimulus onset that step t stands for, or None
    for a step with no commitment. `silent_steps` lists the steps whose output does not depend on
    the image yet. `region` is the Brain-Score region the area is committed to, if any.
    """

    name: str
    taps: Mapping[str, str]
    time_bins: tuple[TimeBin | None, ...]
    silent_steps: tuple[int, ...] = ()
    region: str | None = None

    @property
    def steps(self) -> int:
        return len(self.time_bins)

    @property
    def streams(self) -> tuple[str, ...]:
        return tuple(self.taps)

    @property
    def tap(self) -> str:
        """The module path of the area's primary (first) stream."""
        return next(iter(self.taps.values()))

    def time_bin(self, step: int) -> TimeBin | None:
        if not 0 <= step < self.steps:
            raise BrainlikeError(f"area {self.name} has steps 0..{self.steps - 1}, not {step}")
        return self.time_bins[step]


@dataclass(frozen=True)
class ModelCard:
    """Everything brainlike knows about a registered model without building it."""

    name: str
    family: str
    areas: tuple[Area, ...]
    input_size: int
    visual_degrees: float
    num_classes: int
    preprocessing: str
    citation: str
    weights: Mapping[str, WeightSpec] = field(default_factory=dict)
    readout_steps: int = 1
    labels: str | None = "imagenet"
    description: str = ""
    notes: tuple[str, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def area_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.areas)

    @property
    def default_weights(self) -> str | None:
        return next(iter(self.weights), None)

    def area(self, name: str) -> Area:
        for a in self.areas:
            if a.name == name:
                return a
        raise BrainlikeError(f"{self.name} has no area {name!r}; its areas are {', '.join(self.area_names)}")

    def region_map(self) -> dict[str, str]:
        """Brain-Score region -> area name, for the areas committed to a region."""
        return {a.region: a.name for a in self.areas if a.region}


CardSource = ModelCard | Callable[..., ModelCard]


@dataclass(frozen=True)
class _Entry:
    builder: Callable[..., nn.Module]
    card: CardSource


@dataclass(frozen=True)
class Namespace:
    """Models named `prefix:name` (torchvision, timm): `names()` lists them, `entry(name)` gives the
    (builder, card) of one or raises a BrainlikeError. They stay out of the plain `list_models()`."""

    names: Callable[[], list[str]]
    entry: Callable[[str], tuple[Callable[..., nn.Module], CardSource]]


_REGISTRY: dict[str, _Entry] = {}
_FRONTENDS: dict[str, Callable[[nn.Module], nn.Module]] = {}
_NAMESPACES: dict[str, Namespace] = {}
_NAMESPACED: dict[str, _Entry] = {}
PLUGIN_GROUP = "brainlike.models"
_plugins_seen: set[str] = set()
_plugins_path: tuple[str, ...] | None = None


def register_model(name: str, *, card: CardSource) -> Callable:
    """Register `builder(**config) -> nn.Module` under `name` with its card (or card function)."""

    def decorator(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise RuntimeError(f"model {name!r} is registered twice")
        _REGISTRY[name] = _Entry(builder, card)
        return builder

    return decorator


def register_frontend(name: str) -> Callable:
    """Register `attach(model) -> model`, which puts a front end in place of a built model's V1."""

    def decorator(attach: Callable[[nn.Module], nn.Module]) -> Callable[[nn.Module], nn.Module]:
        if name in _FRONTENDS:
            raise RuntimeError(f"front end {name!r} is registered twice")
        _FRONTENDS[name] = attach
        return attach

    return decorator


def register_namespace(prefix: str, namespace: Namespace) -> None:
    if prefix in _NAMESPACES:
        raise RuntimeError(f"namespace {prefix!r} is registered twice")
    _NAMESPACES[prefix] = namespace


def _load_families() -> None:
    import brainlike.models  # noqa: F401  (registers every family)

    _load_plugins()


def _load_plugins() -> None:
    """Import the entry points of group `brainlike.models` not seen yet (rescanned when sys.path changes):
    each names a module that registers its models on import, or a function called once to register them."""
    global _plugins_path
    import sys
    import warnings
    from importlib.metadata import entry_points

    if _plugins_path == tuple(sys.path):
        return
    _plugins_path = tuple(sys.path)
    for point in entry_points(group=PLUGIN_GROUP):
        key = f"{point.name}={point.value}"
        if key in _plugins_seen:
            continue
        _plugins_seen.add(key)
        try:
            loaded = point.load()
            if callable(loaded) and not inspect.ismodule(loaded):
                loaded()
        except Exception as error:  # a broken plugin must not break brainlike
            warnings.warn(f"brainlike model plugin {point.value!r} failed to load: {error}", stacklevel=3)


def _namespaced(name: str) -> _Entry:
    prefix, rest = name.split(":", 1)
    if prefix not in _NAMESPACES:
        known = ", ".join(f"{p}:" for p in sorted(_NAMESPACES))
        raise BrainlikeError(f"unknown model namespace {prefix + ':'!r} in {name!r}; known: {known}")
    if name not in _NAMESPACED:
        builder, card = _NAMESPACES[prefix].entry(rest)
        _NAMESPACED[name] = _Entry(builder, card)
    return _NAMESPACED[name]


def _entry(name: str) -> _Entry:
    _load_families()
    if ":" in name:
        return _namespaced(name)
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `brainlike models` lists them"
        raise BrainlikeError(f"unknown model {name!r}{hint}")
    return _REGISTRY[name]


def list_models(pattern: str | None = None) -> list[str]:
    """Registered model names, sorted, optionally filtered by a shell-style pattern. Namespaced models
    appear only for a pattern with their prefix: `list_models("torchvision:*")`."""
    _load_families()
    if pattern and ":" in pattern:
        prefix = pattern.split(":", 1)[0]
        if prefix not in _NAMESPACES:
            raise BrainlikeError(f"unknown model namespace {prefix + ':'!r}; known: {', '.join(sorted(_NAMESPACES))}")
        names = sorted(f"{prefix}:{n}" for n in _NAMESPACES[prefix].names())
        return [n for n in names if fnmatch.fnmatch(n, pattern)]
    names = sorted(_REGISTRY)
    if pattern:
        names = [n for n in names if fnmatch.fnmatch(n, pattern)]
    return names


def model_card(name: str, **config: Any) -> ModelCard:
    """The card of `name` for the given constructor arguments (defaults when none are given): a head built
    with `num_classes` is described with that many classes. With `frontend=`, the card of the model with
    that front end, which depends on the built model (the V1 module it replaces, the stride that keeps its
    map size): it is built once, with random weights and the global RNG left as it was, and remembered."""
    if config.get("frontend") is not None:
        return _frontend_card(name, config)
    config.pop("frontend", None)
    source = _entry(name).card
    card = source(**config) if callable(source) else source
    classes = config.get("num_classes", card.num_classes)
    return replace(card, name=name, config=dict(config), num_classes=classes)


_FRONTEND_CARDS: dict[str, ModelCard] = {}


def _frontend_card(name: str, config: Mapping[str, Any]) -> ModelCard:
    key = f"{name}|{sorted(config.items())!r}"
    if key not in _FRONTEND_CARDS:
        import torch

        with torch.random.fork_rng(devices=[]), torch.no_grad():
            _FRONTEND_CARDS[key] = create_model(name, **config).card
    return _FRONTEND_CARDS[key]


def create_model(name: str, pretrained: bool | str = False, **overrides: Any) -> nn.Module:
    """Build a registered model.

    pretrained: False (random init), True (the card's default weights), a weight tag from the card,
    or the path of a local checkpoint file. The configuration implied by the weights is applied
    first; `overrides` that contradict it are refused, since the weights would not fit.
    The model comes back in train mode with its card attached as `model.card`.
    `frontend="vone"` then replaces the model's V1 by a registered front end (a VOne block).
    `num_classes=K` with weights whose head has another size fine-tunes: the body is loaded and the
    head keeps its fresh initialisation (a warning names the keys that were reset).
    """
    frontend = overrides.pop("frontend", None)
    entry = _entry(name)
    if frontend is not None and frontend not in _FRONTENDS:
        raise BrainlikeError(f"unknown front end {frontend!r}; known: {', '.join(sorted(_FRONTENDS))}")
    spec, local_path = resolve_weights(model_card(name), pretrained)
    config = dict(spec.config) if spec else {}
    new_head = "num_classes" in overrides and (spec is None or overrides["num_classes"] != config.get("num_classes"))
    if new_head and (spec is not None or local_path is not None):
        config["num_classes"] = overrides["num_classes"]
    for key, value in overrides.items():
        if key in config and config[key] != value:
            raise BrainlikeError(f"{name}: the weights need {key}={config[key]!r}, but {key}={value!r} was asked for")
        config[key] = value
    try:
        inspect.signature(entry.builder).bind(**config)
    except TypeError as error:
        raise BrainlikeError(f"{name}: {error}") from None
    model = entry.builder(**config)
    model.card = model_card(name, **config)
    if spec is not None or local_path is not None:
        load_pretrained(model, spec, local_path, new_head=new_head)
    if frontend is not None:
        try:
            model = _FRONTENDS[frontend](model)
        except (NotImplementedError, RuntimeError, TypeError, ValueError) as error:  # its probe of V1 failed
            raise BrainlikeError(
                f"{name}: front end {frontend!r} cannot replace its V1 ({type(error).__name__}: "
                f"{str(error).splitlines()[0] if str(error) else 'no message'})"
            ) from None
    return model
