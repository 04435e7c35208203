"""`measure_behaviour(model, experiment)`: a model's 16-category decisions on the Geirhos et al. (2019)
stimuli, at every readout step, as trials in the shape of the human data.

Images are decoded and brought to the model's resolution by its card's preprocessing (the same pixels as
`load_images`), normalised per batch, and run through `Readouts(model)`; every readout step's logits
become category probabilities by the published rule (`decisions`). Time is split three ways: decode
(waiting for decoded images, and normalising them), forward (the model), analysis (logits to
decisions).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from brainlike.analysis.behaviour.decisions import CategoryMap, category_map
from brainlike.analysis.features.stimuli import ImageFiles, collate_images
from brainlike.data import geirhos
from brainlike.errors import BrainlikeError
from brainlike.precision import autocast
from brainlike.recording import image_layout
from brainlike.runtime.devices import decode_workers, pick_device
from brainlike.runtime.readouts import Readouts
from brainlike.transforms import normalize


@dataclass
class BehaviourResult:
    """A model's category probabilities on an experiment's images, per readout step.

    probabilities[t, i, k]: mean softmax probability of covered category k for image i at readout step t.
    excluded: images not evaluated because their shape or texture is a category the model lacks;
    unavailable: images whose file was not in the given stimulus folder.
    """

    model: str
    experiment: str
    images: tuple[str, ...]
    categories: tuple[str, ...]
    dropped: tuple[str, ...]
    mapping: str
    probabilities: np.ndarray
    excluded: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def readout_steps(self) -> int:
        return self.probabilities.shape[0]

    def decisions(self) -> np.ndarray:
        """(steps, images) the decided category at each readout step."""
        return np.asarray(self.categories, dtype=object)[self.probabilities.argmax(axis=2)]

    def confidence(self) -> np.ndarray:
        """(steps, images) the decided category's probability, renormalised over the covered categories."""
        total = self.probabilities.sum(axis=2)
        return self.probabilities.max(axis=2) / np.where(total > 0, total, 1)

    def frame(self, step: int | None = -1) -> pd.DataFrame:
        """Trials as `load_responses` has them (observer = the model, rt NaN), plus `step` and `confidence`:
        one readout step (default the last, what `forward` returns), or every step with `step=None`."""
        steps = range(self.readout_steps) if step is None else [range(self.readout_steps)[step]]
        decisions, confidence = self.decisions(), self.confidence()
        parsed = [geirhos.parse_image(i) for i in self.images]
        frames = [
            pd.DataFrame(
                {
                    "observer": self.model,
                    "image": list(self.images),
                    "shape": [s for s, _ in parsed],
                    "texture": [t for _, t in parsed],
                    "response": decisions[t].astype(str),
                    "rt": np.nan,
                    "step": t,
                    "confidence": confidence[t],
                }
            )
            for t in steps
        ]
        return pd.concat(frames, ignore_index=True)


def _output_width(model: nn.Module, card, size: int, device: torch.device) -> int:
    if card is not None:
        return int(card.config.get("num_classes", card.num_classes))
    with torch.no_grad():
        return int(Readouts(model)(torch.zeros(1, 3, size, size, device=device))[-1].shape[-1])


def _spread(images: list[str], limit: int | None) -> list[str]:
    if limit is None:
        return images
    if limit < 1:
        raise BrainlikeError(f"limit must be at least 1, not {limit}")
    return [images[i] for i in np.unique(np.linspace(0, len(images) - 1, min(limit, len(images))).round().astype(int))]


@dataclass(frozen=True)
class _Selection:
    files: dict[str, os.PathLike]
    excluded: tuple[str, ...]
    unavailable: tuple[str, ...]


def _select(name: str, images, stimuli, limit, cmap: CategoryMap, **fetch) -> _Selection:
    """The stimuli to evaluate: the wanted ones (those in a local folder), thinned to `limit`, without those
    whose shape or texture the model does not cover; only these are downloaded."""
    wanted = list(geirhos.stimulus_entries(name)) if images is None else list(images)
    unavailable: tuple[str, ...] = ()
    if stimuli is not None:
        found = geirhos.stimulus_files(name, stimuli, images=wanted)
        wanted, unavailable = [i for i in wanted if i in found.files], found.missing
    wanted = _spread(wanted, limit)
    covered = set(cmap.categories)
    kept = [i for i in wanted if set(geirhos.parse_image(i)) <= covered]
    if not kept:
        raise BrainlikeError(
            f"no {name} stimulus has shape and texture among the model's categories ({cmap.describe()})"
        )
    if stimuli is None:
        found = geirhos.stimulus_files(name, images=kept, **fetch)
    excluded = tuple(sorted(set(wanted) - set(kept)))
    return _Selection({i: found.files[i] for i in kept}, excluded, unavailable)


def measure_behaviour(
    model: nn.Module,
    experiment: str = "cue-conflict",
    *,
    stimuli: str | os.PathLike | None = None,
    images: Sequence[str] | None = None,
    limit: int | None = None,
    mapping: str | os.PathLike | Mapping | None = None,
    input_size: int | None = None,
    preprocessing: str | None = None,
    batch_size: int = 64,
    workers: int | None = None,
    device: str = "auto",
    precision: str = "fp32",
    download: bool = True,
    mirror: str | None = None,
    progress: bool = False,
) -> BehaviourResult:
    """The model's decisions among the 16 categories on `experiment`'s stimuli, at every readout step.

    stimuli: a local folder with the stimuli (else they are downloaded into the cache once); images: the
    stimulus names to use (default all); limit: an evenly spaced subset of this many of them. mapping:
    {category: [output indices or class names]} or a JSON file of one, for heads brainlike cannot map
    (ImageNet's 1000 classes and label sets with shipped names are mapped without one). workers: decoding
    processes (default the spare cores). download/mirror: see `brainlike.data.geirhos.fetch_stimuli`.
    """
    name = geirhos.experiment_names(experiment)[0]
    card = getattr(model, "card", None)
    size = input_size or (card.input_size if card else 224)
    preprocessing = preprocessing or (card.preprocessing if card else "imagenet")
    device = pick_device(device)
    model.to(device)
    cmap = category_map(_output_width(model, card, size, device), card.labels if card else "imagenet", mapping)
    chosen = _select(name, images, stimuli, limit, cmap, download=download, mirror=mirror, progress=progress)
    workers = decode_workers(device) if workers is None else workers
    probabilities, timings = _run(
        model,
        list(chosen.files.values()),
        cmap,
        size,
        preprocessing,
        batch_size,
        workers,
        device,
        precision,
        progress,
    )
    return BehaviourResult(
        model=card.name if card else type(model).__name__,
        experiment=name,
        images=tuple(chosen.files),
        categories=cmap.categories,
        dropped=cmap.dropped,
        mapping=cmap.describe(),
        probabilities=probabilities,
        excluded=chosen.excluded,
        unavailable=chosen.unavailable,
        timings=timings,
    )


@torch.no_grad()
def _run(model, paths, cmap, size, preprocessing, batch_size, workers, device, precision, progress):
    """(steps, images, categories) probabilities and the seconds spent decoding, forward and in analysis."""
    layout = image_layout(device)
    loader = DataLoader(
        ImageFiles(paths, preprocessing, size),
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=partial(collate_images, memory_format=layout),
        pin_memory=device.type == "cuda",
    )
    readouts, weights = Readouts(model), cmap.matrix().to(device)
    was_training = model.training
    model.eval()
    timings = {"decode_s": 0.0, "forward_s": 0.0, "analysis_s": 0.0}
    chunks, pixels, batches = [], None, iter(loader)
    try:
        with tqdm(total=len(paths), unit="img", desc="behaviour", disable=not progress) as bar:
            while True:
                started = time.perf_counter()
                batch = next(batches, None)
                if batch is None:
                    timings["decode_s"] += time.perf_counter() - started
                    break
                x, errors = batch
                bad = [e for e in errors if e]
                if bad:
                    raise BrainlikeError(bad[0])
                if pixels is None:  # one input buffer for every batch
                    pixels = torch.empty(x.shape, device=device, memory_format=layout)
                x = normalize(x.to(device, non_blocking=True), preprocessing, out=pixels[: len(x)])
                decoded = time.perf_counter()
                with autocast(precision, device.type):
                    logits = readouts(x)
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                forwarded = time.perf_counter()
                chunks.append(torch.stack([z.float().softmax(dim=-1) @ weights for z in logits]).cpu().numpy())
                timings["decode_s"] += decoded - started
                timings["forward_s"] += forwarded - decoded
                timings["analysis_s"] += time.perf_counter() - forwarded
                bar.update(len(x))
    finally:
        model.train(was_training)
    return np.concatenate(chunks, axis=1), timings
