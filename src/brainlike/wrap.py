"""`wrap()`: any `nn.Module` with a model card, so every brainlike function accepts it.

An area may name any submodule path. Its output then passes an `nn.Identity` tap, as in every
registered model: a forward hook on the named submodule hands its output through `module.taps[area]`
(an `nn.ModuleDict` of identities, which hold no parameters or buffers, so the state_dict keys stay
those of the wrapped module). A submodule that runs k times in one forward pass gives its area k time
steps; `wrap()` counts the calls with one dry run (a single black image at `input_size`, eval mode, no
gradients). With `areas=None` no tap is added: every leaf submodule that runs in the dry run becomes an
area of its own, named by its module path and read directly at that path.
"""

from __future__ import annotations

import difflib
from typing import Mapping, Sequence

import torch
import torch.nn as nn

from brainlike.errors import BrainlikeError
from brainlike.registry import BRAINSCORE_LATENCIES_MS, Area, ModelCard, TimeBin, uniform_bins

TAPS = "taps"


def wrap(
    module: nn.Module,
    *,
    name: str,
    areas: Mapping[str, str] | None = None,
    input_size: int = 224,
    visual_degrees: float = 8.0,
    preprocessing: str = "imagenet",
    num_classes: int | None = None,
    time_bins: Mapping[str, Sequence[TimeBin | None]] | None = None,
    family: str = "wrapped",
    citation: str = "",
) -> nn.Module:
    """Attach a ModelCard (and, for `areas`, identity taps) to `module` in place and return it.

    areas: {area name: module path}; the area names V1, V2, V4 and IT are committed to the Brain-Score
    region of that name. time_bins: {area: (start, end) ms per step}; by default a one-step area of a
    Brain-Score region gets (latency, latency + 100) (the feed-forward commitment of the zoo) and every
    other step is left uncommitted (None). num_classes: by default the last dimension of the dry run's output.
    """
    from brainlike.transforms import preset

    preset(preprocessing)  # an unknown preset is refused here, not at the first image
    paths = dict(module.named_modules())
    if areas is not None:
        if not areas:
            raise BrainlikeError(f"{name}: areas is empty; give {{area: module path}} or None for every leaf")
        for area, path in areas.items():
            check_path(paths, path, f"{name}: area {area}")
        chosen = dict(areas)
    else:
        chosen = {p: p for p, m in paths.items() if p and not any(True for _ in m.children())}
    calls, output = count_calls(module, set(chosen.values()), input_size)
    if areas is not None:
        silent = [f"{a} -> {p!r}" for a, p in chosen.items() if calls[p] == 0]
        if silent:
            raise BrainlikeError(f"{name}: area {', '.join(silent)} never runs in forward (dry run at {input_size} px)")
        taps = attach_taps(module, chosen)
    else:
        chosen = {a: p for a, p in chosen.items() if calls[p] > 0}
        taps = chosen
    steps = {a: calls[p] for a, p in chosen.items()}
    card = ModelCard(
        name=name,
        family=family,
        areas=tuple(
            Area(
                a,
                {"output": taps[a]},
                _bins(a, steps[a], time_bins),
                region=a if a in BRAINSCORE_LATENCIES_MS else None,
            )
            for a in chosen
        ),
        input_size=input_size,
        visual_degrees=visual_degrees,
        num_classes=num_classes if num_classes is not None else _classes(output),
        preprocessing=preprocessing,
        citation=citation,
        labels="imagenet" if (num_classes or _classes(output)) == 1000 else None,
        notes=(f"wrapped with brainlike.wrap(); steps per area counted in a dry run at {input_size} px",),
    )
    module.card = card
    return module


def check_path(paths: Mapping[str, nn.Module], path: str, where: str) -> None:
    """A clear error naming the closest existing module paths when `path` is not a submodule."""
    if path in paths and path:
        return
    close = difflib.get_close_matches(path, [p for p in paths if p], n=3, cutoff=0.0)
    raise BrainlikeError(f"{where}: no submodule {path!r}; closest: {', '.join(close) or 'none'}")


def count_calls(module: nn.Module, paths: set[str], input_size: int) -> tuple[dict[str, int], object]:
    """How often each module path runs in one forward pass of a black image, and the output."""
    modules = dict(module.named_modules())
    calls = dict.fromkeys(paths, 0)

    def counter(path):
        def hook(_m, _i, _o):
            calls[path] += 1

        return hook

    handles = [modules[p].register_forward_hook(counter(p)) for p in paths]
    parameter = next(module.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    dtype = parameter.dtype if parameter is not None and parameter.is_floating_point() else torch.float32
    was_training = module.training
    try:
        module.eval()
        with torch.no_grad():
            output = module(torch.zeros(1, 3, input_size, input_size, device=device, dtype=dtype))
    except Exception as error:  # the user's module may raise anything on a wrong input size
        raise BrainlikeError(
            f"the dry run of {type(module).__name__} on a (1, 3, {input_size}, {input_size}) image failed: {error}"
        ) from None
    finally:
        module.train(was_training)
        for handle in handles:
            handle.remove()
    return calls, output


def attach_taps(module: nn.Module, areas: Mapping[str, str]) -> dict[str, str]:
    """Hand the output of each area's submodule through an identity `module.taps[area]` (forward hooks);
    returns {area: tap path}. Identities hold no state, so the state_dict is unchanged."""
    modules = dict(module.named_modules())
    taps = getattr(module, TAPS, None)
    if not isinstance(taps, nn.ModuleDict):
        if TAPS in dict(module.named_children()):
            raise BrainlikeError(f"{type(module).__name__} already has a submodule {TAPS!r} that is not a tap table")
        taps = nn.ModuleDict()
        module.add_module(TAPS, taps)
    for area, path in areas.items():
        key = area.replace(".", "_")
        if key not in taps:
            taps[key] = nn.Identity()
            modules[path].register_forward_hook(_Through(taps[key]))
    return {area: f"{TAPS}.{area.replace('.', '_')}" for area in areas}


def tapped_module(model: nn.Module, tap: str) -> str | None:
    """The path of the submodule whose output `wrap()` hands through the tap at `tap`, or None when
    `tap` is not such a tap (a registered model's own tap, or a module read directly)."""
    target = dict(model.named_modules()).get(tap)
    if not isinstance(target, nn.Identity):
        return None
    for path, module in model.named_modules():
        if any(isinstance(h, _Through) and h.tap is target for h in module._forward_hooks.values()):
            return path
    return None


class _Through:
    """A forward hook that passes the output through a tap. An object, not a closure, so that
    `copy.deepcopy(model)` gives the copy's hook the copy's tap (and the model still pickles)."""

    def __init__(self, tap: nn.Module):
        self.tap = tap

    def __call__(self, _module, _inputs, output):
        return self.tap(output)


def _bins(area: str, steps: int, given: Mapping[str, Sequence[TimeBin | None]] | None) -> tuple[TimeBin | None, ...]:
    if given is not None and area in given:
        bins = tuple(given[area])
        if len(bins) != steps:
            raise BrainlikeError(
                f"area {area} runs {steps} steps per forward pass, but {len(bins)} time bins were given"
            )
        return bins
    if steps == 1 and area in BRAINSCORE_LATENCIES_MS:
        return uniform_bins(BRAINSCORE_LATENCIES_MS[area], 100, 1)
    return (None,) * steps


def _classes(output) -> int:
    if isinstance(output, (tuple, list)) and output:
        output = output[-1]
    return int(output.shape[-1]) if isinstance(output, torch.Tensor) and output.ndim == 2 else 0
