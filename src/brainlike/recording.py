"""Per-area, per-time-step activations, read through the areas' taps.

Every registered model passes each area's output through an `nn.Identity` tap once per time step of
that area. `record()` hooks those taps, so the k-th call of an area's tap is that area's step k; the
Brain-Score name of that activation is `"{area}.output-t{k}"`. Everything in brainlike that reads
activations goes through here.
"""

from __future__ import annotations

import difflib
from contextlib import contextmanager
from typing import Iterable, Sequence

import torch
import torch.nn as nn

from brainlike.errors import BrainlikeError
from brainlike.precision import autocast
from brainlike.registry import Area, ModelCard

ALL_STREAMS = "all"
POOLS = ("none", "avg", "max")
READOUT = "readout"  # the key of the readouts' logits in record(..., readouts=True)


def layer_name(area: str, step: int) -> str:
    """Brain-Score's name for the activation of `area` at `step` (0-based hook-call order)."""
    return f"{area}.output-t{step}"


def card_of(model: nn.Module) -> ModelCard:
    card = getattr(model, "card", None)
    if card is None:
        raise BrainlikeError(f"{type(model).__name__} has no model card; build it with brainlike.create_model(...)")
    return card


def area_streams(area: Area, stream: str | None) -> list[str]:
    """The streams of `area` that `stream` names: None the first, "all" every one, else that one."""
    if stream is None:
        return [area.streams[0]]
    if stream == ALL_STREAMS:
        return list(area.streams)
    if stream not in area.taps:
        raise BrainlikeError(f"area {area.name} has streams {', '.join(area.streams)}, not {stream!r}")
    return [stream]


class _StopForward(Exception):
    """Raised from a hook once every requested activation has been seen."""


@contextmanager
def _eval_mode(model: nn.Module):
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def record(
    model: nn.Module,
    x: torch.Tensor,
    areas: Iterable[str] | None = None,
    steps: Sequence[int] | None = None,
    stream: str | None = None,
    *,
    full_forward: bool = False,
    precision: str = "fp32",
    pool: str = "none",
    layers: Iterable[str] | None = None,
    readouts: bool = False,
) -> dict[str, list[torch.Tensor]]:
    """Run `x` through `model` and return `{area: [activation per step]}`.

    layers: module paths to read besides (or, when `areas` is None, instead of) the areas, keyed by the
    path, one tensor per call of that module in the forward pass (all calls; `steps` applies to areas). A
    model without a card can be read through `layers` alone. Reading layers runs the whole forward pass.
    readouts: also (or, when `areas` is None, instead) return the logits of every readout step under the
    key "readout" (`model.readouts(x)` where the model has it, else the one output of `model(x)`), from the
    same forward pass.

    areas: names from the model card (default: all). steps: which steps to keep (default: all the
    area has; negative indices count from the end). stream: for models with several streams per area
    (BLT-VS: "bu", "td"), which one; None is the first, "all" returns every stream under keys
    `"{area}.{stream}"`. The model runs in eval mode without gradients; once every requested
    activation is in, the forward pass is cut short unless `full_forward` is set. Activations of steps
    listed in the area's `silent_steps` do not depend on the image. precision: "fp32", or "bf16" to
    run under autocast (activations come back as float32 either way). pool: "avg" or "max" pools each
    (N, C, H, W) activation over space as it arrives (see `pool_activation`), so only (N, C) is kept.
    On CPUs the model runs on channels-last input (see `image_layout`); activations come back contiguous
    in the usual layout.
    """
    check_pool(pool)
    modules = dict(model.named_modules())
    paths = _layer_paths(model, modules, layers)
    by_areas = areas is not None or not (paths or readouts)
    card = card_of(model) if by_areas else getattr(model, "card", None)
    wanted = _wanted_taps(card, modules, areas, steps, stream) if by_areas else {}
    clash = sorted(set(wanted) & set(paths)) + ([READOUT] if readouts and READOUT in {*wanted, *paths} else [])
    if clash:
        raise BrainlikeError(f"{', '.join(clash)} asked for twice (as an area, a layer or the readouts)")
    full_forward = full_forward or bool(paths) or readouts
    wanted.update({path: (path, None) for path in paths})

    calls: dict[str, int] = {key: 0 for key in wanted}
    out: dict[str, list[torch.Tensor]] = {key: [] for key in wanted}
    needed = {key: max(keep) + 1 for key, (_, keep) in wanted.items() if keep is not None}

    def make_hook(key: str, keep: list[int]):
        keep_set = None if keep is None else set(keep)

        def hook(_module, _inputs, output):
            step = calls[key]
            calls[key] = step + 1
            if keep_set is None or step in keep_set:
                out[key].append(pool_activation(output.detach().float(), pool).contiguous())
            if not full_forward and all(calls[k] >= needed[k] for k in needed):
                raise _StopForward

        return hook

    handles = [modules[path].register_forward_hook(make_hook(key, keep)) for key, (path, keep) in wanted.items()]
    try:
        with torch.no_grad(), _eval_mode(model), autocast(precision, x.device.type):
            if readouts:
                logits = model.readouts(_fast_layout(x)) if hasattr(model, "readouts") else [model(_fast_layout(x))]
                out[READOUT] = [y.detach().float().contiguous() for y in logits]
            else:
                model(_fast_layout(x))
    except _StopForward:
        pass
    finally:
        for handle in handles:
            handle.remove()

    for key, (path, keep) in wanted.items():
        if keep is None and not out[key]:
            raise BrainlikeError(f"layer {path!r} never ran in the forward pass")
        if keep is not None and len(out[key]) != len(keep):
            raise BrainlikeError(
                f"{card.name}: tap {path} was called {calls[key]} times, but steps {keep} were requested"
            )
    return out


def _layer_paths(model: nn.Module, modules: dict[str, nn.Module], layers: Iterable[str] | None) -> list[str]:
    if layers is None:
        return []
    paths = list(dict.fromkeys(layers))
    if not paths:
        raise BrainlikeError("layers is empty; give module paths (model.named_modules())")
    for path in paths:
        if not path or path not in modules:
            close = difflib.get_close_matches(path, [p for p in modules if p], n=3, cutoff=0.0)
            raise BrainlikeError(
                f"{type(model).__name__} has no submodule {path!r}; closest: {', '.join(close) or 'none'}"
            )
    return paths


def _wanted_taps(card, modules, areas, steps, stream) -> dict[str, tuple[str, list[int]]]:
    """{result key: (tap path, steps to keep)} for the requested areas and streams."""
    chosen = [card.area(a) for a in (areas if areas is not None else card.area_names)]
    if not chosen:
        raise BrainlikeError("no areas to record")
    wanted = {}
    for area in chosen:
        keep = chosen_steps(area, steps)
        several = stream == ALL_STREAMS and len(area.streams) > 1
        for s in area_streams(area, stream):
            path = area.taps[s]
            if path not in modules:
                raise BrainlikeError(f"{card.name}: tap {path!r} of area {area.name} is not in the model")
            wanted[f"{area.name}.{s}" if several else area.name] = (path, keep)
    return wanted


def check_pool(pool: str) -> None:
    if pool not in POOLS:
        raise BrainlikeError(f"pool must be one of {', '.join(POOLS)}, not {pool!r}")


def pool_activation(activation: torch.Tensor, pool: str) -> torch.Tensor:
    """Global average or max over space for (N, C, H, W) maps; other shapes pass through."""
    if pool == "none" or activation.ndim < 3:
        return activation
    dims = tuple(range(2, activation.ndim))
    return activation.mean(dim=dims) if pool == "avg" else activation.amax(dim=dims)


def image_layout(device: str | torch.device) -> torch.memory_format:
    """The memory format record() runs images in on `device`: channels-last on CPUs, where oneDNN's
    convolutions and PyTorch's pooling run natively in it (bench/MEASUREMENTS.md); on GPUs, where it
    was not measured, images keep the layout they come in."""
    return torch.channels_last if torch.device(device).type == "cpu" else torch.contiguous_format


def _fast_layout(x: torch.Tensor) -> torch.Tensor:
    if x.ndim == 4 and image_layout(x.device) == torch.channels_last:
        return x.contiguous(memory_format=torch.channels_last)
    return x


def chosen_steps(area: Area, steps: Sequence[int] | None) -> list[int]:
    """The steps of `area` to keep: all when None; negative indices count from the end."""
    if steps is None:
        return list(range(area.steps))
    chosen = sorted({s + area.steps if s < 0 else s for s in steps})
    bad = [s for s in chosen if not 0 <= s < area.steps]
    if bad:
        raise BrainlikeError(f"area {area.name} has steps 0..{area.steps - 1}; asked for {bad}")
    return chosen


def layer_names(card: ModelCard) -> list[str]:
    """All Brain-Score layer names of a model's areas, in area then step order."""
    return [layer_name(a.name, t) for a in card.areas for t in range(a.steps)]
