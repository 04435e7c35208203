"""`train()`: what `brainlike train` calls. It picks the recipe, reads the data, builds the model and runs
a Trainer, joining the torchrun process group when launched by torchrun.

    result = train("cornet_z", "digits", recipe="digits", output="runs/z", num_classes=10)

`train(..., resume=True)` continues from `latest.pt`; on CPU the result is bitwise what the
uninterrupted run would have given.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
import torch.nn as nn

from brainlike.data import LabeledImages, has_split, open_dataset
from brainlike.errors import BrainlikeError
from brainlike.runtime.checkpoints import load_checkpoint
from brainlike.runtime.distributed import barrier, setup, teardown
from brainlike.runtime.fingerprints import check_same_run, plain, weights_digest
from brainlike.runtime.model_setup import build_for_dataset
from brainlike.training.recipes import Recipe, apply_overrides, load_recipe, recipe_for_model, recipe_from_dict
from brainlike.training.trainer import Trainer, TrainResult


def resolve_recipe(
    model_name: str | None, recipe: str | Path | Recipe | None, overrides: Mapping[str, Any] | None
) -> Recipe:
    if isinstance(recipe, Recipe):
        chosen = recipe
    elif recipe is not None:
        chosen = load_recipe(recipe)
    elif model_name is not None:
        chosen = recipe_for_model(model_name)
    else:
        raise BrainlikeError("give a recipe for a model that is not registered")
    return apply_overrides(chosen, overrides or {})


def train(
    model: str | nn.Module,
    data: str | Path | tuple[LabeledImages, LabeledImages | None],
    *,
    recipe: str | Path | Recipe | None = None,
    overrides: Mapping[str, Any] | None = None,
    output: str | Path | None = None,
    resume: bool | str | Path = False,
    overwrite: bool = False,
    device: str | None = None,
    pretrained: bool | str = False,
    skip_bad: bool = False,
    progress: bool = True,
    max_steps: int | None = None,
    on_step: Callable[[Trainer], None] | None = None,
    **model_config: Any,
) -> TrainResult:
    """Train a registered model (by name) or a given module on a dataset (a source, or (train, val)).

    `recipe` is a recipe name, a YAML path or a Recipe (default: the model's published recipe);
    `overrides` change any of its fields. The model gets one output per class of the dataset.
    Under torchrun this runs as one process of a DDP job. `resume` continues from `output/latest.pt`
    (True) or from a given checkpoint file, with the recipe stored in it (overrides still apply). A
    folder that holds another run is refused unless `resume` continues it or `overwrite` clears it first.
    """
    name = model if isinstance(model, str) else None
    if resume is True and output is None:
        raise BrainlikeError("--resume continues the run in the folder given with -o; give it")
    output = Path(output) if output is not None else Path("runs") / (name or type(model).__name__.lower())
    context = setup(device)
    try:
        claim_folder(output, resume=bool(resume), overwrite=overwrite, context=context)
        checkpoint = None
        if resume:
            checkpoint = load_checkpoint(output / "latest.pt" if resume is True else resume)
            if name is not None and checkpoint.get("model_name") not in (None, name):
                raise BrainlikeError(f"{output} holds a run of {checkpoint['model_name']}, not of {name}")
            base = recipe_from_dict(checkpoint["recipe"], origin="checkpoint recipe")
            model_config = {**checkpoint["model_config"], **model_config}
            chosen = apply_overrides(base, overrides or {})
        else:
            chosen = resolve_recipe(model if isinstance(model, str) else None, recipe, overrides)
        if chosen.batch_size % context.world_size:
            raise BrainlikeError(f"batch_size {chosen.batch_size} does not divide over {context.world_size} processes")
        if isinstance(data, tuple):
            train_set, val_set = data
        else:
            size = chosen.input_size or 32
            train_set = open_dataset(data, "train", skip_bad=skip_bad, digits_size=size)
            val_set = _optional_split(data, skip_bad, size)
        torch.manual_seed(chosen.seed)  # random starting weights follow the seed, so a resumed run is the same network
        if name is not None:
            model, _ = build_for_dataset(name, train_set, pretrained=pretrained, **model_config)
            model_config = dict(model.card.config)
        started = start_fingerprint(model, name, model_config, chosen.seed)
        if checkpoint is not None and checkpoint.get("fingerprint"):
            where = output if resume is True else Path(resume)
            check_same_run(checkpoint["fingerprint"], started, str(where), remedy=RESTART)
        trainer = Trainer(
            model,
            train_set,
            val_set,
            chosen,
            output=output,
            context=context,
            progress=progress,
            model_name=name,
            model_config=model_config,
            fingerprint=started,
        )
        if checkpoint is not None:
            trainer.load_state_dict(checkpoint)
        return trainer.fit(max_steps=max_steps, on_step=on_step)
    finally:
        teardown(context)


RESTART = "resume it with the same model, weights and seed, or start afresh with --overwrite (without --resume)"


def start_fingerprint(model: nn.Module, name: str | None, config: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """What a run starts from: the model, its configuration, a digest of its starting weights and the seed."""
    return plain(
        {
            "model": name or type(model).__name__,
            "model_config": dict(config),
            "start_weights_sha256": weights_digest(model),
            "seed": seed,
        }
    )


RUN_FILES = ("latest.pt", "log.csv", "recipe.yaml", "model.safetensors", "report", "tensorboard")


def claim_folder(output: Path, *, resume: bool, overwrite: bool, context) -> None:
    """Make sure a new run does not write into another run's folder: refuse, or with `overwrite` remove the
    files a run writes there (nothing else in the folder)."""
    held = sorted(p.name for p in output.glob("*") if p.name in RUN_FILES or p.name.startswith("epoch_"))
    if not held or resume:
        return
    if not overwrite:
        raise BrainlikeError(
            f"{output} holds another run ({', '.join(held)}); continue it with --resume, "
            "start it again with --overwrite, or choose another -o"
        )
    if context.is_main:
        for name in held:
            path = output / name
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    barrier(context)


def _optional_split(data, skip_bad: bool, size: int) -> LabeledImages | None:
    """The validation split when the dataset has one."""
    return open_dataset(data, "val", skip_bad=skip_bad, digits_size=size) if has_split(data, "val") else None
