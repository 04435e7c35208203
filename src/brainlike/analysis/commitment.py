"""Layer commitment from data: which layer (x time step) of a model stands for each brain region.

`commit_layers` runs the stimuli through the model once, keeps every candidate layer's features (spatially
pooled, or at most `max_features` units drawn once per layer, so memory grows with stimuli x candidates x
`max_features` and not with the layers' size), scores each (layer, step) against each region's recordings
with the cross-validated mapping of `brainlike.analysis.neural` (ridge or PLS, held-out Pearson r, normalised
by the split-half ceiling where there are repetitions) and picks the best per region, as Brain-Score does
when it commits a model's layers to regions, but on the researcher's own recordings.

`apply_commitment(model, commitment)` then gives the model's card one area per committed region, read at the
chosen module through an identity tap, so `record(model, x, areas=["IT"])`, every measurement and the
Brain-Score adapter (through `card.region_map()`) use the chosen layers. A `Commitment` saves to and loads
from JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn as nn

from brainlike.analysis.neural import NeuralData, load_neural, match_stimuli, noise_ceiling, predictivity
from brainlike.errors import BrainlikeError
from brainlike.recording import POOLS, card_of, record
from brainlike.registry import BRAINSCORE_LATENCIES_MS, Area, TimeBin, create_model
from brainlike.reports import to_jsonable, write_atomic
from brainlike.wrap import attach_taps, check_path, count_calls

FORMAT = "brainlike-commitment/1"
# modules that hand their input on unchanged (in eval mode): never candidates of their own
_PASS_THROUGH = (nn.Identity, nn.Dropout, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)


@dataclass(frozen=True)
class CandidateScore:
    """How well one (layer, step) predicts one region: median held-out r, ceiling and their ratio."""

    region: str
    layer: str
    step: int
    score: float
    ceiling: float | None
    normalized: float | None

    @property
    def value(self) -> float:
        return self.normalized if self.normalized is not None else self.score


@dataclass(frozen=True)
class Commitment:
    """region -> (module path, step) chosen on data, with every candidate's score (`frame()`)."""

    model: str
    regions: Mapping[str, tuple[str, int]]
    scores: tuple[CandidateScore, ...]
    settings: Mapping[str, object] = field(default_factory=dict)

    @property
    def areas(self) -> dict[str, str]:
        """{region: module path}, the shape `brainlike.wrap(module, areas=...)` takes."""
        return {region: path for region, (path, _) in self.regions.items()}

    def frame(self):
        import pandas as pd

        rows = [
            {**vars(s), "value": s.value, "chosen": self.regions[s.region] == (s.layer, s.step)} for s in self.scores
        ]
        return pd.DataFrame(rows)

    def save(self, path: str | os.PathLike) -> Path:
        data = {"format": FORMAT, "model": self.model, "regions": self.regions, "settings": self.settings}
        data["scores"] = [vars(s) for s in self.scores]
        return write_atomic(Path(path), json.dumps(to_jsonable(data), indent=1))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Commitment:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise BrainlikeError(f"cannot read a commitment from {path}: {error}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BrainlikeError(f"{path} is not a brainlike commitment file (from commit_layers / brainlike commit)")
        try:
            regions = {r: (str(p), int(t)) for r, (p, t) in data["regions"].items()}
            scores = tuple(CandidateScore(**s) for s in data["scores"])
            return cls(data["model"], regions, scores, data["settings"])
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise BrainlikeError(f"{path} is a damaged commitment file ({type(error).__name__}: {error})") from None


# ------------------------------------------------------------------------------------- neural data


def _region_labels(path: Path) -> list[str] | None:
    """The `region` of each neuroid, where the file has one (npz/h5 array, or .nc neuroid coordinate)."""
    suffix = path.suffix.lower()
    if suffix == ".nc":
        import xarray as xr

        coords = xr.load_dataarray(path).coords
        values = coords["region"].values if "region" in coords else None
    elif suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            values = archive["region"] if "region" in archive.files else None
    else:
        import h5py

        with h5py.File(path, "r") as handle:
            values = handle["region"][()] if "region" in handle else None
    if values is None:
        return None
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(values).ravel()]


def _neuroids(data: NeuralData, keep: np.ndarray) -> NeuralData:
    ids = [n for n, k in zip(data.neuroid_ids, keep) if k]
    return NeuralData(data.stimulus_ids, data.responses[:, :, keep], ids, data.time_bins_ms)


def regional_data(neural, regions: Sequence[str] | None) -> dict[str, NeuralData]:
    """{region: NeuralData} from a {region: file or NeuralData} mapping, or from one file whose neuroids carry a
    `region` label (or, without labels, from one recording of the one region named in `regions`)."""
    if isinstance(neural, Mapping):
        data = {r: d if isinstance(d, NeuralData) else load_neural(d) for r, d in neural.items()}
    else:
        loaded = neural if isinstance(neural, NeuralData) else load_neural(neural)
        labels = None if isinstance(neural, NeuralData) else _region_labels(Path(neural))
        if labels is None:
            if regions is None or len(regions) != 1:
                raise BrainlikeError(
                    "the neural data has no region per neuroid (a 'region' array or coordinate): name its one "
                    "region in regions, or give {region: data}"
                )
            return {regions[0]: loaded}
        order = list(dict.fromkeys(labels))
        data = {r: _neuroids(loaded, np.array([label == r for label in labels])) for r in order}
    missing = [r for r in (regions or ()) if r not in data]
    if missing:
        raise BrainlikeError(f"no recordings of region {', '.join(missing)}; the data has {', '.join(data)}")
    chosen = {r: data[r] for r in (regions if regions is not None else data)}
    if not chosen:
        raise BrainlikeError("no regions to commit")
    binned = [r for r, d in chosen.items() if d.time_bins_ms]
    if binned:
        raise BrainlikeError(
            f"the recordings of {', '.join(binned)} are binned in time; commit_layers scores one response per "
            "stimulus: average the bins you commit on (Brain-Score uses 70-170 ms) first"
        )
    return chosen


# ------------------------------------------------------------------------------------- candidates


def candidate_layers(model: nn.Module, input_size: int) -> dict[str, int]:
    """{module path: calls per forward pass} of the leaf modules with (N, C, H, W) outputs in a dry run, except
    those that pass their input on unchanged (identities, taps, dropout)."""
    leaves = {
        path
        for path, module in model.named_modules()
        if path and not any(True for _ in module.children()) and not isinstance(module, _PASS_THROUGH)
    }
    spatial: dict[str, int] = {}
    modules = dict(model.named_modules())

    def probe(path):
        def hook(_m, _i, output):
            if isinstance(output, torch.Tensor) and output.ndim == 4:
                spatial[path] = spatial.get(path, 0) + 1

        return hook

    handles = [modules[p].register_forward_hook(probe(p)) for p in leaves]
    try:
        count_calls(model, set(), input_size)
    finally:
        for handle in handles:
            handle.remove()
    return {p: spatial[p] for p in modules if p in spatial}


def _given_candidates(model: nn.Module, paths: Sequence[str], input_size: int) -> dict[str, int]:
    modules = dict(model.named_modules())
    for path in paths:
        check_path(modules, path, "candidate layer")
    calls, _ = count_calls(model, set(paths), input_size)
    silent = [p for p in paths if calls[p] == 0]
    if silent:
        raise BrainlikeError(f"candidate layer {', '.join(silent)} never runs in forward")
    return {p: calls[p] for p in paths}


class _Features:
    """Each candidate's features of every stimulus: pooled, or `max_features` units drawn once per candidate."""

    def __init__(self, rows: int, max_features: int, seed: int):
        self.rows, self.max_features, self.seed = rows, max_features, seed
        self.arrays: dict[tuple[str, int], np.ndarray] = {}
        self.units: dict[tuple[str, int], torch.Tensor | None] = {}

    def add(self, key: tuple[str, int], row: int, activation: torch.Tensor) -> None:
        flat = activation.reshape(len(activation), -1)
        if key not in self.arrays:
            size = flat.shape[1]
            rng = np.random.default_rng([self.seed, len(self.arrays)])
            pick = np.sort(rng.choice(size, self.max_features, replace=False)) if size > self.max_features else None
            self.units[key] = None if pick is None else torch.from_numpy(pick)
            self.arrays[key] = np.empty((self.rows, size if pick is None else len(pick)), dtype=np.float32)
        units = self.units[key]
        kept = flat if units is None else flat[:, units.to(flat.device)]
        self.arrays[key][row : row + len(flat)] = kept.cpu().numpy()


def _features(model, x_of_batch, count, candidates, *, pool, max_features, seed, device, progress):
    from tqdm import tqdm

    features = _Features(count, max_features, seed)
    row = 0
    for x in tqdm(x_of_batch, unit="batch", disable=not progress, desc="features"):
        recorded = record(model, x.to(device), layers=list(candidates), pool=pool)
        for path, outputs in recorded.items():
            for step, activation in enumerate(outputs):
                features.add((path, step), row, activation)
        row += len(x)
    return features.arrays


def _batches(stimuli, order: list[str], model: nn.Module, batch_size: int):
    """The stimuli of `order` (neural ids) as batches: rows of a tensor, or images loaded with the card's
    preprocessing from a folder / text file / paths whose ids match."""
    from brainlike.analysis.features import list_stimuli
    from brainlike.transforms import load_images

    if isinstance(stimuli, torch.Tensor):
        if len(stimuli) != len(order):
            raise BrainlikeError(f"{len(stimuli)} images for {len(order)} recorded stimuli; give one per stimulus")
        return [stimuli[i : i + batch_size] for i in range(0, len(order), batch_size)]
    card = card_of(model)
    ids, paths = list_stimuli(stimuli)
    rows = match_stimuli(ids, order)
    chosen = [paths[r] for r in rows]
    return (
        load_images(chosen[i : i + batch_size], card.preprocessing, card.input_size)
        for i in range(0, len(chosen), batch_size)
    )


def commit_layers(
    model: str | nn.Module,
    neural,
    *,
    stimuli,
    regions: Sequence[str] | None = None,
    candidates: Sequence[str] | None = None,
    method: str = "ridge",
    folds: int = 5,
    pool: str = "none",
    max_features: int = 1000,
    pretrained: bool | str = True,
    device: str = "auto",
    batch_size: int = 16,
    seed: int = 0,
    progress: bool = True,
) -> Commitment:
    """Score every candidate (layer, step) on each region's recordings and commit the best one per region.

    neural: a file (.npz / .h5 / .nc, `brainlike.analysis.neural`'s layout) whose neuroids carry a `region`,
    a {region: file or NeuralData} mapping, or one region's data with `regions=[that region]`. stimuli: the
    images, as a folder / text file / paths whose ids are the neural stimulus ids (loaded with the card's
    preprocessing), or an (N, 3, H, W) tensor already preprocessed, one row per neural stimulus in order.
    candidates: module paths (default: every leaf module with (N, C, H, W) outputs); each call of a module in
    the forward pass is a step of its own. pool: "none" keeps up to `max_features` units of each candidate
    (drawn once, seeded), "avg" / "max" pool over space. method, folds: the cross-validated mapping
    (`brainlike.analysis.neural.predictivity`). The best candidate per region has the highest
    ceiling-normalised score (the raw one without repetitions); ties go to the earlier layer.
    """
    from tqdm import tqdm

    from brainlike.runtime import pick_device

    if pool not in POOLS or method not in ("ridge", "pls") or max_features < 1 or batch_size < 1:
        raise BrainlikeError(
            f"pool must be one of {', '.join(POOLS)}, method ridge or pls, max_features and batch_size at least 1"
        )
    data = regional_data(neural, [regions] if isinstance(regions, str) else regions)
    order = next(iter(data.values())).stimulus_ids
    if any(d.stimulus_ids != order for d in data.values()):
        raise BrainlikeError("every region's recordings must list the same stimuli in the same order")
    if isinstance(model, str):
        model = create_model(model, pretrained=pretrained)
    torch_device = pick_device(device)
    model = model.to(torch_device)
    size = card_of(model).input_size if not isinstance(stimuli, torch.Tensor) else stimuli.shape[-1]
    layers = candidate_layers(model, size) if candidates is None else _given_candidates(model, candidates, size)
    if not layers:
        raise BrainlikeError("the model has no leaf module with (N, C, H, W) outputs; name candidates")
    batches = _batches(stimuli, order, model, batch_size)
    arrays = _features(
        model,
        batches,
        len(order),
        layers,
        pool=pool,
        max_features=max_features,
        seed=seed,
        device=torch_device,
        progress=progress,
    )
    scores, chosen = [], {}
    for region, recorded in data.items():
        ceiling = noise_ceiling(recorded.responses, seed=seed) if recorded.repetitions > 1 else None
        per_region = []
        for (path, step), x in tqdm(arrays.items(), unit="layer", disable=not progress, desc=region):
            fit = predictivity(x, recorded.responses, method=method, folds=folds, seed=seed, ceiling=ceiling)
            per_region.append(CandidateScore(region, path, step, fit.score, fit.ceiling_score, fit.normalized))
        best = max(per_region, key=lambda s: s.value)  # max keeps the first of equal values
        chosen[region] = (best.layer, best.step)
        scores += per_region
    settings = dict(method=method, folds=folds, pool=pool, max_features=max_features, seed=seed, stimuli=len(order))
    return Commitment(
        card_of(model).name if hasattr(model, "card") else type(model).__name__, chosen, tuple(scores), settings
    )


# ------------------------------------------------------------------------------------- applying


def _mapping(commitment) -> dict[str, tuple[str, int | None]]:
    if isinstance(commitment, (str, os.PathLike)):
        commitment = Commitment.load(commitment)
    if isinstance(commitment, Commitment):
        return {r: (p, t) for r, (p, t) in commitment.regions.items()}
    if not isinstance(commitment, Mapping) or not commitment:
        raise BrainlikeError("a commitment is a Commitment, its JSON file, or {region: path or (path, step)}")
    return {r: (v, None) if isinstance(v, str) else (str(v[0]), int(v[1])) for r, v in commitment.items()}


def _committed_bins(region: str, steps: int, step: int) -> tuple[TimeBin | None, ...]:
    """The region's feed-forward bin (Brain-Score's latency + 100 ms) on the committed step; no others."""
    latency = BRAINSCORE_LATENCIES_MS.get(region)
    return tuple((latency, latency + 100) if t == step and latency is not None else None for t in range(steps))


def apply_commitment(model: nn.Module, commitment) -> nn.Module:
    """Commit layers to regions on `model`'s card, in place, and return the model.

    commitment: a `Commitment`, the path of its JSON file, or {region: module path or (path, step)} (without
    a step, a module that runs several times is committed at its last call). Each region becomes an area of
    that name read at the module through an identity tap (the state_dict is unchanged); an area of the same
    name is replaced and other areas lose their claim on the region. The committed step is given the region's
    feed-forward time bin, so the Brain-Score adapter answers with it.
    """
    card = card_of(model)
    mapping = _mapping(commitment)
    modules = dict(model.named_modules())
    for region, (path, _) in mapping.items():
        check_path(modules, path, f"{card.name}: region {region}")
    calls, _ = count_calls(model, {p for p, _ in mapping.values()}, card.input_size)
    taps = attach_taps(model, {f"committed_{r}_{p}": p for r, (p, _) in mapping.items()})
    areas = []
    for region, (path, step) in mapping.items():
        steps = calls[path]
        if steps == 0:
            raise BrainlikeError(f"{card.name}: region {region} -> {path!r} never runs in forward")
        step = steps - 1 if step is None else step
        if not 0 <= step < steps:
            raise BrainlikeError(f"{card.name}: {path} runs {steps} time(s) per forward pass, so it has no step {step}")
        areas.append(
            Area(
                region,
                {"output": taps[f"committed_{region}_{path}"]},
                _committed_bins(region, steps, step),
                region=region,
            )
        )
    kept = [replace(a, region=None if a.region in mapping else a.region) for a in card.areas if a.name not in mapping]
    note = "regions committed with apply_commitment: " + ", ".join(
        f"{r} {p} (step {t if t is not None else calls[p] - 1})" for r, (p, t) in mapping.items()
    )
    model.card = replace(card, areas=(*areas, *kept), notes=(*card.notes, note))
    return model
