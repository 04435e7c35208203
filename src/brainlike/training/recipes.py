"""Training recipes: one YAML file per published training setup, every field overridable.

A recipe is flat (one level of `key: value`), so any field can be overridden from the command line
with `--set key=value` (the value is read as YAML: `--set lr=0.05`, `--set milestones=[30,60]`).
The recipe files live in `brainlike/training/recipes/` (the repository's `recipes/` points there).
Each file lists the models it is the published recipe for under `models` (shell-style patterns).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import types
import typing
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from brainlike.errors import BrainlikeError
from brainlike.precision import PRECISIONS
from brainlike.runtime.checkpoints import RECIPE_RENAMES

RECIPE_DIR = Path(__file__).parent / "recipes"


@dataclass(frozen=True)
class Recipe:
    """Every setting of a training run. Defaults are a plain SGD run; the YAML files set the rest."""

    name: str = "custom"
    description: str = ""
    source: str = ""
    models: tuple[str, ...] = ()
    # length and batches
    epochs: int | None = 1  # None: until the schedule says stop (lr <= stop_lr)
    batch_size: int = 256  # global, over all processes
    val_batch_size: int | None = None
    workers: int = 4
    seed: int = 0
    # optimiser
    optimizer: str = "sgd"  # sgd | adam
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 1e-4
    # schedule
    schedule: str = "step"  # constant | step | multistep | warmup_plateau_fit
    step_size: float = 10  # step: epochs between decays, applied per iteration (fractional epochs)
    gamma: float = 0.1
    milestones: tuple[int, ...] = ()
    warmup_epochs: int = 0
    warmup_start_factor: float = 0.01
    plateau_fit_epochs: int = 5
    plateau_factor: float = 0.5
    plateau_min_percent_change: float = 1.0
    plateau_patience: int = 2
    min_lr: float = 1e-8
    stop_lr: float | None = None
    # loss
    label_smoothing: float = 0.0
    class_weights: bool = False
    readout_loss: str = "last"  # last | mean (averaged over the readout steps)
    # gradient clipping: none | norm (global norm, clip_value) | adaptive (per tensor, clip_value x weight norm)
    grad_clip: str = "none"
    clip_value: float = 0.1
    # precision: one of brainlike.precision.PRECISIONS; mixed = fp16 with loss scaling on GPU, bf16 on CPU
    precision: str = "fp32"
    # data
    input_size: int | None = None  # None: the model card's input size
    preprocessing: str | None = None  # a transforms preset name for mean/std; None: the card's
    train_transform: str = "random_resized_crop"
    val_transform: str = "resize_center_crop"
    crop_fraction: float = 0.875
    isotropic_blur: bool = False
    # logging and checkpoints
    log_every: int = 50  # steps between training rows in the log
    checkpoint_minutes: float = 10.0
    keep_epoch_checkpoints: int = 0  # also keep epoch_NNN.pt every this many epochs (0: never)
    find_unused_parameters: str = "auto"  # auto | true | false (DDP)

    def replace(self, **changes: Any) -> "Recipe":
        return recipe_from_dict({**self.as_dict(), **changes})

    def as_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


FIELDS = {f.name: f for f in dataclasses.fields(Recipe)}
TYPES = typing.get_type_hints(Recipe)
_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _typed(key: str, value: Any, kind: Any, origin: str) -> Any:
    """`value` as the declared type of field `key` (YAML 1.1 reads 1e-3 as a string; sizes must be whole)."""
    options = typing.get_args(kind) if typing.get_origin(kind) in (typing.Union, types.UnionType) else (kind,)
    if value is None and type(None) in options:
        return None
    base = next(t for t in options if t is not type(None))
    if typing.get_origin(base) is tuple:
        item = typing.get_args(base)[0]
        values = value if isinstance(value, (list, tuple)) else [value]
        return tuple(_typed(key, v, item, origin) for v in values)
    converted = _convert(value, base)
    if converted is None:
        raise BrainlikeError(f"{origin}: {key} must be {_NAMES.get(base, base.__name__)}, not {value!r}")
    return converted


def _convert(value: Any, base: type) -> Any:
    """`value` as `base`, or None when it is not one (a bool is not a number; 2.5 is not an integer)."""
    if base is bool:
        return value if isinstance(value, bool) else None
    if base is str:
        return value if isinstance(value, str) else None
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if base is int:
        return int(number) if number.is_integer() else None
    return number


CHOICES = {
    "optimizer": ("sgd", "adam"),
    "schedule": ("constant", "step", "multistep", "warmup_plateau_fit"),
    "readout_loss": ("last", "mean"),
    "grad_clip": ("none", "norm", "adaptive"),
    "precision": PRECISIONS,
    "find_unused_parameters": ("auto", "true", "false"),
}


def _renamed(values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """The values with keys of earlier releases under their current names (a later key wins)."""
    old = [key for key in values if key in RECIPE_RENAMES]
    if old:
        names = ", ".join(f"{key} -> {RECIPE_RENAMES[key]}" for key in old)
        warnings.warn(f"{origin}: renamed recipe field(s) {names}; the old names will go", DeprecationWarning, 3)
    return {RECIPE_RENAMES.get(key, key): value for key, value in values.items()}


def recipe_from_dict(values: Mapping[str, Any], origin: str = "recipe") -> Recipe:
    values = _renamed(values, origin)
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise BrainlikeError(f"{origin}: unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    clean = {}
    for key, value in values.items():
        if key == "find_unused_parameters" and isinstance(value, bool):
            value = str(value).lower()
        value = _typed(key, value, TYPES[key], origin)
        if key in CHOICES and value not in CHOICES[key]:
            raise BrainlikeError(f"{origin}: {key} must be one of {', '.join(CHOICES[key])}, not {value!r}")
        clean[key] = value
    recipe = Recipe(**clean)
    _check(recipe, origin)
    return recipe


def _check(recipe: Recipe, origin: str) -> None:
    if recipe.epochs is None and recipe.stop_lr is None:
        raise BrainlikeError(f"{origin}: epochs: null (train until the schedule stops) needs stop_lr")
    if recipe.epochs is not None and recipe.epochs < 1:
        raise BrainlikeError(f"{origin}: epochs must be at least 1")
    if recipe.batch_size < 1 or recipe.lr <= 0:
        raise BrainlikeError(f"{origin}: batch_size and lr must be positive")
    if recipe.input_size is not None and recipe.input_size < 1:
        raise BrainlikeError(f"{origin}: input_size must be at least 1 pixel (or null for the model card's)")
    if recipe.workers < 0:
        raise BrainlikeError(f"{origin}: workers must be 0 or more")


def available_recipes() -> list[str]:
    return sorted(p.stem for p in RECIPE_DIR.glob("*.yaml"))


def load_recipe(name_or_path: str | Path) -> Recipe:
    """A recipe by name (a file in the recipes folder) or by path to a YAML file."""
    path = Path(name_or_path)
    if not path.is_file():
        path = RECIPE_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise BrainlikeError(
            f"no recipe {str(name_or_path)!r}; known: {', '.join(available_recipes())}, or a YAML path"
        )
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise BrainlikeError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(values, dict):
        raise BrainlikeError(f"{path}: a recipe is a mapping of fields to values")
    values.setdefault("name", path.stem)
    return recipe_from_dict(values, origin=str(path))


def recipe_for_model(name: str) -> Recipe:
    """The published recipe whose `models` patterns match the model name."""
    for recipe_name in available_recipes():
        recipe = load_recipe(recipe_name)
        if any(fnmatch.fnmatch(name, pattern) for pattern in recipe.models):
            return recipe
    raise BrainlikeError(f"no published recipe for {name}; pass one with --recipe ({', '.join(available_recipes())})")


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """`key=value` strings -> dict, with values read as YAML."""
    overrides = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise BrainlikeError(f"expected key=value, got {item!r}")
        try:
            overrides[key.strip()] = yaml.safe_load(text)
        except yaml.YAMLError:
            raise BrainlikeError(f"cannot read the value of {item!r}") from None
    return overrides


def apply_overrides(recipe: Recipe, overrides: Mapping[str, Any]) -> Recipe:
    if not overrides:
        return recipe
    return recipe_from_dict({**recipe.as_dict(), **overrides}, origin="overrides")
