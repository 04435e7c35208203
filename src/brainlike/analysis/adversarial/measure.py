"""White-box adversarial robustness: `measure_adversarial(model, dataset, budgets=...)`.

Images are brought to the model's input resolution by its card's preprocessing geometry and attacked as
[0, 1] pixels; the model's normalisation is part of the attacked function, so budgets are in pixel
space whatever the preset. Recurrent models are attacked on their last readout ("last") and separately
on the mean loss over all readouts ("mean"), and scored at every readout step.

Stochastic models (VOneNets with noise on) are detected by running the first batch twice. Their attack
averages the gradient over `eot_samples` noise draws per step and their accuracy over
`noise_evaluations` noisy passes; attacking one with a single gradient sample warns
(StochasticModelWarning), since that overstates its robustness.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

from brainlike.analysis.adversarial.attack import AttackSettings, attack_batch
from brainlike.analysis.adversarial.budgets import VONENET_EOT_SAMPLES, Budget, resolve_budgets
from brainlike.analysis.adversarial.readouts import (
    OBJECTIVES,
    PixelReadouts,
    StochasticModelWarning,
    is_stochastic,
)
from brainlike.analysis.adversarial.result import AdversarialResult
from brainlike.errors import BrainlikeError
from brainlike.runtime.devices import decode_workers, pick_device
from brainlike.transforms import geometry


class _Pixels(Dataset):
    """Items as (uint8 pixels at the model's resolution, label)."""

    def __init__(self, dataset, preprocessing: str, size: int):
        self.dataset, self.geometry = dataset, geometry(preprocessing, size)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        item = self.dataset[index]
        return None if item is None else (self.geometry(item[0]), item[1])


def _collate(batch):
    kept = [item for item in batch if item is not None]
    return torch.utils.data.default_collate(kept) if kept else None


def _objectives(objectives: Iterable[str] | None, steps: int) -> list[str]:
    chosen = list(OBJECTIVES if objectives is None else objectives)
    unknown = [o for o in chosen if o not in OBJECTIVES]
    if unknown or not chosen:
        raise BrainlikeError(f"objectives are {' and '.join(OBJECTIVES)}, not {unknown or 'none'}")
    if steps == 1:  # one readout: the mean over readouts is the last one
        return ["last"]
    return list(dict.fromkeys(chosen))


def _noise_settings(name: str, stochastic: bool, eot_samples, noise_evaluations, restarts) -> AttackSettings:
    eot = (VONENET_EOT_SAMPLES if stochastic else 1) if eot_samples is None else int(eot_samples)
    evaluations = (VONENET_EOT_SAMPLES if stochastic else 1) if noise_evaluations is None else int(noise_evaluations)
    if eot < 1 or evaluations < 1 or restarts < 0:
        raise BrainlikeError("eot_samples and noise_evaluations must be at least 1, restarts at least 0")
    if stochastic and eot == 1:
        warnings.warn(
            f"{name} is stochastic (its logits change from call to call) and is attacked with one gradient "
            f"sample per step: single noisy gradients make a weak attack and overstate its robustness; use "
            f"eot_samples={VONENET_EOT_SAMPLES} (the VOneNet setting) or fix its noise",
            StochasticModelWarning,
            stacklevel=3,
        )
    return AttackSettings(restarts=int(restarts), eot_samples=eot, noise_evaluations=evaluations)


class _Frozen:
    """The model in eval mode with parameter gradients off for the attack; restored afterwards."""

    def __init__(self, model: torch.nn.Module):
        self.model = model

    def __enter__(self):
        self.training = self.model.training
        self.flags = [(p, p.requires_grad) for p in self.model.parameters()]
        self.model.eval().requires_grad_(False)
        return self.model

    def __exit__(self, *exc):
        for parameter, flag in self.flags:
            parameter.requires_grad_(flag)
        self.model.train(self.training)


def measure_adversarial(
    model: torch.nn.Module,
    dataset,
    *,
    budgets: str | Budget | Sequence[str | Budget] = "vonenet",
    steps: int | None = None,
    relative_step: float | None = None,
    restarts: int = 0,
    eot_samples: int | None = None,
    noise_evaluations: int | None = None,
    objectives: Iterable[str] | None = None,
    limit: int | None = None,
    examples: int = 0,
    seed: int = 0,
    batch_size: int = 64,
    workers: int | None = None,
    precision: str = "fp32",
    input_size: int | None = None,
    preprocessing: str | None = None,
    device: str = "auto",
    progress: bool = False,
) -> AdversarialResult:
    """Clean and robust top-1 per readout step of `model` on `dataset` under untargeted PGD.

    budgets: a preset ("vonenet": the VOneNet paper's six attacks), "norm:epsilon" strings ("linf:1/255",
    "l2:0.5", "l1:40") or Budget objects; steps, relative_step override their iterations and step size
    (as a fraction of epsilon). restarts: extra PGD runs from random points of each ball. eot_samples:
    gradient samples per step (default: 10 for a stochastic model, 1 otherwise). noise_evaluations: noisy
    passes each accuracy is averaged over (same default). objectives: "last" and/or "mean" (default both
    for recurrent models). limit: an evenly spaced subset of this many images. examples: keep the first
    this many images with their adversarial versions (result.examples). seed: seeds the noise and the
    random starts. input_size, preprocessing: default the model card's.
    """
    budgets = resolve_budgets(budgets, steps=steps, relative_step=relative_step)
    card = getattr(model, "card", None)
    size = input_size or (card.input_size if card else None)
    preprocessing = preprocessing or (card.preprocessing if card else None)
    if size is None or preprocessing is None:
        raise BrainlikeError("a model without a card needs input_size and preprocessing")
    name = card.name if card else type(model).__name__
    if limit is not None and limit < len(dataset):
        dataset = Subset(dataset, np.linspace(0, len(dataset) - 1, limit).round().astype(int).tolist())
    device = pick_device(device)
    workers = decode_workers(device) if workers is None else workers
    loader = DataLoader(
        _Pixels(dataset, preprocessing, size), batch_size=batch_size, num_workers=workers, collate_fn=_collate
    )
    attacked = PixelReadouts(model.to(device), preprocessing, precision)
    clean, robust, kept, settings, chosen = [], {}, {}, None, None
    with _Frozen(model), torch.random.fork_rng(devices=[device.index] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for batch in tqdm(loader, desc="adversarial", disable=not progress):
            if batch is None:
                continue
            pixels, labels = batch[0].to(device).float().div_(255), batch[1].to(device)
            if settings is None:
                stochastic = is_stochastic(attacked, pixels[:2])
                settings = _noise_settings(name, stochastic, eot_samples, noise_evaluations, restarts)
                chosen = _objectives(objectives, len(attacked(pixels[:1])))
            wanted = max(0, examples - sum(len(c) for c in clean))
            outcome = attack_batch(
                attacked, pixels, labels, budgets, objectives=chosen, settings=settings, keep_images=wanted > 0
            )
            clean.append(outcome.clean.cpu())
            for (objective, key), scores in outcome.robust.items():
                robust.setdefault(objective, {}).setdefault(key, []).append(scores.cpu())
            if wanted:
                _keep_examples(kept, pixels[:wanted], labels[:wanted], outcome, chosen[0])
    if settings is None:
        raise BrainlikeError("no images could be read from the dataset")
    return AdversarialResult(
        model=name,
        images=sum(len(c) for c in clean),
        budgets=budgets,
        clean=torch.cat(clean).numpy(),
        robust={o: {k: torch.cat(v).numpy() for k, v in per.items()} for o, per in robust.items()},
        stochastic=stochastic,
        eot_samples=settings.eot_samples,
        noise_evaluations=settings.noise_evaluations,
        restarts=settings.restarts,
        examples={k: torch.cat(v) if k != "labels" else sum(v, []) for k, v in kept.items()},
    )


def _keep_examples(kept: dict, pixels, labels, outcome, objective: str) -> None:
    count = len(pixels)
    kept.setdefault("clean", []).append(pixels.cpu())
    kept.setdefault("labels", []).append(labels.cpu().tolist())
    for (o, key), images in outcome.images.items():
        if o == objective:
            kept.setdefault(key, []).append(images[:count].cpu())
