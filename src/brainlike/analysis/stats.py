"""Architecture statistics: parameters, FLOPs, output shapes and receptive fields per area.

FLOPs are counted by torch's FlopCounterMode (a multiply-add counts as two FLOPs; convolutions and
matrix products only) on the direct algorithm, whatever fast path the machine would take. An area's
FLOPs are those of the module that computes it; for a wrapped model, whose area names one module in a
sequence, those spent since the previous area's output. Receptive fields are measured, not derived by
hand: the gradient of an area's centre unit (last step) with respect to the input is non-zero exactly on
the pixels that can reach it. Normalisation layers that pool over
space (GroupNorm, LayerNorm, InstanceNorm) would make every unit depend on every pixel, so they are
bypassed while measuring; the result is the receptive field of the convolutional geometry, which is
what "RF size" means for these models.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from brainlike.kernels.calibration import forced as fast_paths
from brainlike.recording import card_of, record
from brainlike.transforms import pixels_to_degrees
from brainlike.wrap import tapped_module

_SPATIAL_NORMS = (nn.GroupNorm, nn.LayerNorm, nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)


@dataclass(frozen=True)
class AreaStats:
    area: str
    steps: int
    shape: tuple[int, ...]
    flops: int
    rf_pixels: int
    rf_degrees: float
    rf_clipped: bool


@dataclass(frozen=True)
class ModelStats:
    name: str
    input_size: int
    params: int
    flops: int
    areas: tuple[AreaStats, ...]


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _counted(model: nn.Module, x: torch.Tensor, counter: FlopCounterMode | None = None) -> FlopCounterMode:
    """One forward pass of `x` in eval mode on the direct algorithm, counted; the finished counter."""
    counter = FlopCounterMode(display=False) if counter is None else counter
    with counter, torch.no_grad(), fast_paths("off"):
        was_training = model.training
        model.eval()
        try:
            model(x)
        finally:
            model.train(was_training)
    return counter


def module_flops(model: nn.Module, x: torch.Tensor) -> tuple[int, dict[str, int]]:
    """Total FLOPs of one forward pass on `x`, and FLOPs per module path (each module called in the pass)."""
    counter = _counted(model, x)
    prefix = f"{type(model).__name__}."
    per_module = {
        name[len(prefix) :]: int(sum(c.values()))
        for name, c in counter.get_flop_counts().items()
        if name.startswith(prefix)
    }
    return int(counter.get_total_flops()), per_module


def flops_between(model: nn.Module, x: torch.Tensor, paths: list[str]) -> dict[str, int]:
    """Per module path: the FLOPs spent, in one forward pass on `x`, before each of its calls since the
    previous call of any module in `paths` (or the start), summed over its calls."""
    modules = dict(model.named_modules())
    counter = FlopCounterMode(display=False)
    spent, last = dict.fromkeys(paths, 0), [0]

    def mark(path: str):
        def hook(_module, _inputs, _output):
            now = counter.get_total_flops()
            spent[path] += now - last[0]
            last[0] = now

        return hook

    handles = [modules[p].register_forward_hook(mark(p)) for p in paths]
    try:
        _counted(model, x, counter)
    finally:
        for handle in handles:
            handle.remove()
    return {p: int(v) for p, v in spent.items()}


def count_flops(model: nn.Module, x: torch.Tensor) -> tuple[int, dict[str, int]]:
    """Total FLOPs of one forward pass on `x`, and FLOPs per top-level child module."""
    total, per_module = module_flops(model, x)
    return total, {name: per_module.get(name, 0) for name, _ in model.named_children()}


def _area_flops(model: nn.Module, per_module: dict[str, int], since_previous: dict[str, int], tap: str) -> int:
    """FLOPs of an area: for a wrapped model's tap (`since_previous`), those spent since the previous
    area's output, since the module it names may be one step of a sequence (a pooling layer after a
    convolution); for an area read directly at a module (`wrap(areas=None)`), that module's alone; and
    otherwise those of the innermost counted module holding the identity tap (`connections.V1` for
    `connections.V1.output_bu`, `V1` for `V1.output`)."""
    if tap in since_previous:
        return since_previous[tap]
    if not isinstance(dict(model.named_modules()).get(tap), nn.Identity):
        return per_module.get(tap, 0)
    parts = tap.split(".")
    for end in range(len(parts) - 1 or 1, 0, -1):
        path = ".".join(parts[:end])
        if path in per_module:
            return per_module[path]
    return 0


def receptive_fields(
    model: nn.Module, input_size: int, *, samples: int = 2, seed: int = 0
) -> dict[str, tuple[int, bool]]:
    """Area -> (RF width in pixels of the centre unit at the last step, clipped by the input edge)."""
    card = card_of(model)
    probe = copy.deepcopy(model).eval()
    for module in probe.modules():
        if isinstance(module, _SPATIAL_NORMS):
            module.register_forward_hook(lambda _m, inputs, _out: inputs[0])
    modules = dict(probe.named_modules())
    last: dict[str, torch.Tensor] = {}
    for area in card.areas:
        modules[area.tap].register_forward_hook(lambda _m, _i, out, name=area.name: last.__setitem__(name, out))
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, 3, input_size, input_size, generator=generator, requires_grad=True)
    probe(x)
    result = {}
    names = [a.name for a in card.areas if a.name in last]
    for i, name in enumerate(names):
        out = last[name]
        if out.ndim != 4:
            continue
        centre = out[:, :, out.shape[2] // 2, out.shape[3] // 2].sum()
        (grad,) = torch.autograd.grad(centre, x, retain_graph=i < len(names) - 1)
        touched = grad.abs().sum(dim=(0, 1)) > 0
        rows = touched.any(dim=1).nonzero()
        cols = touched.any(dim=0).nonzero()
        if not len(rows):
            continue
        height = int(rows.max() - rows.min() + 1)
        width = int(cols.max() - cols.min() + 1)
        clipped = bool(
            rows.min() == 0 or cols.min() == 0 or rows.max() == input_size - 1 or cols.max() == input_size - 1
        )
        result[name] = (max(height, width), clipped)
    return result


def model_stats(model: nn.Module, input_size: int | None = None) -> ModelStats:
    """Params, FLOPs per forward, and per area: steps, output shape, FLOPs and RF size."""
    card = card_of(model)
    size = input_size or card.input_size
    x = torch.zeros(1, 3, size, size)
    total, per_module = module_flops(model, x)
    wrapped = [area.tap for area in card.areas if tapped_module(model, area.tap) is not None]
    since_previous = flops_between(model, x, wrapped) if wrapped else {}
    shapes = {area: steps[-1].shape for area, steps in record(model, x, steps=[-1]).items()}
    fields = receptive_fields(model, size)
    rows = []
    for area in card.areas:
        rf, clipped = fields.get(area.name, (0, False))
        rows.append(
            AreaStats(
                area=area.name,
                steps=area.steps,
                shape=tuple(shapes[area.name][1:]),
                flops=_area_flops(model, per_module, since_previous, area.tap),
                rf_pixels=rf,
                rf_degrees=pixels_to_degrees(rf, visual_degrees=card.visual_degrees, input_size=size),
                rf_clipped=clipped,
            )
        )
    return ModelStats(card.name, size, param_count(model), total, tuple(rows))
