"""The front end "vone": a VOne block and a 1x1 bottleneck in place of a feed-forward model's V1.

`create_model("cornet_s", frontend="vone")` is VOneCORnet-S built from CORnet-S (the areas above V1 keep
their weights); `attach_vone(model)` does the same to any model with a card, a wrapped one included, whose
V1 is a top-level module that takes the image alone and runs once.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from dataclasses import replace

import torch
import torch.nn as nn

from brainlike.errors import BrainlikeError
from brainlike.layers.vone import VOneBlock
from brainlike.models.vonenet import VONE_NOTES, bottleneck_conv, vone_v1_area
from brainlike.registry import ModelCard, register_frontend
from brainlike.wrap import tapped_module


class VOneFrontEnd(nn.Sequential):
    """A VOne block and a 1x1 bottleneck to the channel count the replaced V1 produced."""

    def __init__(self, block: VOneBlock, out_channels: int):
        super().__init__(
            OrderedDict(
                [
                    ("vone_block", block),
                    ("bottleneck", bottleneck_conv(block.simple_channels + block.complex_channels, out_channels)),
                ]
            )
        )


@register_frontend("vone")
def attach_vone(model: nn.Module, **vone) -> nn.Module:
    """Replace the V1 area of a feed-forward model by a VOne block + bottleneck; update `model.card`.

    The block's stride is chosen so that its output has the replaced V1's spatial size at the card's
    input size, and the bottleneck matches V1's channel count, so the areas above are unchanged.
    """
    card: ModelCard = model.card
    if "V1" not in card.area_names:
        raise BrainlikeError(f"{card.name} has no V1 area to replace by a VOne block")
    v1 = card.area("V1")
    hooked = tapped_module(model, v1.tap)  # a wrapped model's V1 is read through an identity in model.taps
    child_name = hooked or v1.tap.split(".")[0]
    child = getattr(model, child_name, None) if "." not in child_name else None
    required = (
        [
            p
            for p in inspect.signature(child.forward).parameters.values()
            if p.default is inspect.Parameter.empty and p.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        if child is not None
        else []
    )
    # a container (ModuleDict, ModuleList) has no forward of its own: its stand-in takes *input
    if child is None or len(required) != 1 or required[0].kind is inspect.Parameter.VAR_POSITIONAL or v1.steps != 1:
        raise BrainlikeError(
            f"{card.name}: V1 ({child_name!r}) is not a feed-forward module of the image "
            f"alone, so a VOne block cannot take its place"
        )
    probe = torch.zeros(1, 3, card.input_size, card.input_size)
    was_training = child.training
    try:
        with torch.no_grad():
            features = child.eval()(probe)
    except Exception as error:  # V1 is a later stage of the model, whose input is not the image
        raise BrainlikeError(
            f"{card.name}: V1 ({child_name!r}) does not take the image as its input ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else 'no message'}), so a VOne block cannot take its place"
        ) from None
    finally:
        child.train(was_training)
    if features.ndim != 4:
        raise BrainlikeError(f"{card.name}: V1's output is not a feature map, shape {tuple(features.shape)}")
    channels, height = features.shape[1], features.shape[2]
    kernel_size = vone.get("kernel_size", 25)
    stride = max(1, round(card.input_size / height))
    if (card.input_size - 1) // stride + 1 != height or features.shape[3] != height:
        raise BrainlikeError(
            f"{card.name}: V1 gives a {height}x{features.shape[3]} map at {card.input_size} px, "
            f"which no VOne stride reproduces"
        )
    config = {
        "image_size": card.input_size,
        "visual_degrees": card.visual_degrees,
        "stride": stride,
        "kernel_size": kernel_size,
        **vone,
    }
    setattr(model, child_name, VOneFrontEnd(VOneBlock(**config), channels))
    if hooked is not None:
        parent, key = v1.tap.rsplit(".", 1)
        del model.get_submodule(parent)[key]  # its hook left with the replaced module
    areas = tuple(vone_v1_area(a, f"{child_name}.vone_block.output") if a.name == "V1" else a for a in card.areas)
    model.card = replace(
        card,
        areas=areas,
        visual_degrees=config["visual_degrees"],
        preprocessing="half",
        weights={},
        notes=(
            *card.notes,
            f"V1 replaced by a VOne block (stride {stride}) and a 1x1 bottleneck to {channels} "
            f"channels; the areas above keep their weights.",
            VONE_NOTES[0],
        ),
        config={**card.config, "frontend": "vone"},
    )
    return model
