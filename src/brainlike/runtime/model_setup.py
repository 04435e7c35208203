"""Building a registered model to fit a dataset, from published weights or a training checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch.nn as nn

from brainlike.data import LabeledImages
from brainlike.errors import BrainlikeError
from brainlike.registry import create_model, model_card
from brainlike.runtime.checkpoints import FORMAT, RECIPE_RENAMES
from brainlike.weights import load_state_dict, load_torch_file, saved_settings

CHECKPOINT_SETTINGS = ("input_size", "preprocessing", "val_transform", "crop_fraction")


def training_checkpoint(pretrained) -> dict | None:
    """The checkpoint if `pretrained` is the path of a brainlike training checkpoint (or run folder)."""
    if not isinstance(pretrained, (str, Path)) or str(pretrained).endswith(".safetensors"):
        return None
    path = Path(pretrained)
    if path.is_dir() and (path / "latest.pt").is_file():
        path = path / "latest.pt"
    if not path.is_file():
        return None
    state = load_torch_file(path)
    return state if isinstance(state, dict) and state.get("format") == FORMAT else None


def checkpoint_settings(pretrained) -> dict[str, Any]:
    """Image size, normalisation and validation transform recorded by a training checkpoint, or by the
    `model.safetensors` a training run writes, if any."""
    checkpoint = training_checkpoint(pretrained)
    stored = checkpoint.get("recipe", {}) if checkpoint else saved_settings(pretrained) if pretrained else {}
    recipe = {RECIPE_RENAMES.get(k, k): v for k, v in stored.items()}
    return {k: recipe[k] for k in CHECKPOINT_SETTINGS if recipe.get(k) is not None}


def build_for_dataset(
    name: str | nn.Module, dataset: LabeledImages, *, pretrained: bool | str = False, **config: Any
) -> tuple[nn.Module, dict[str, Any]]:
    """(model, settings): the model with one output per class of `dataset`, and the evaluation
    settings a training checkpoint recorded (empty otherwise). A module is taken as it is, with no
    settings: every `*_report(model_or_name, ...)` resolves its model here."""
    if isinstance(name, nn.Module):
        return name, {}
    checkpoint = training_checkpoint(pretrained)
    if checkpoint is not None:
        if checkpoint.get("model_name") not in (None, name):
            raise BrainlikeError(f"{pretrained} holds a {checkpoint['model_name']}, not a {name}")
        model = create_model(name, **{**checkpoint["model_config"], **config})
        load_state_dict(model, checkpoint["model"], source=str(pretrained))
        settings = checkpoint_settings(pretrained)
    else:
        published = pretrained is True or (isinstance(pretrained, str) and pretrained in model_card(name).weights)
        if not published:
            config.setdefault("num_classes", dataset.num_classes)
        model = create_model(name, pretrained=pretrained, **config)
        settings = checkpoint_settings(pretrained)
    classes = model.card.num_classes
    if classes != dataset.num_classes:
        raise BrainlikeError(f"{name} has {classes} outputs but the dataset has {dataset.num_classes} classes")
    return model, settings
