"""Every torchvision classification model as `torchvision:<name>`, and the baselines `alexnet` and `resnet50`.

Weights come from torchvision's own weight enums (their URLs, the sha256 prefix in the file names, their
eval transforms), but are downloaded through brainlike's cache (`$BRAINLIKE_HOME/weights`, hash-checked),
never torch.hub's. Weight tags are the enum members (`IMAGENET1K_V1`, ...); the default is torchvision's
DEFAULT. A transform of resize short side to crop/0.875, centre crop, bilinear, ImageNet statistics is the
"imagenet_crop" preset; any other ratio gets a preset `torchvision_<resize>_<crop>` (added to
`brainlike.transforms.PRESETS` when the card is made). brainlike resizes bilinearly: weights evaluated with
bicubic resizing say so in a card note. Areas pass identity taps (`model.taps.<area>`, see `brainlike.wrap`)
hooked onto the committed modules (`torchvision_areas`), so the state_dict keys are torchvision's.
"""

from __future__ import annotations

import difflib
import re
import types
from functools import partial

import torch
import torch.nn as nn

from brainlike.errors import BrainlikeError
from brainlike.models.torchvision_areas import commitment
from brainlike.registry import (
    BRAINSCORE_LATENCIES_MS,
    Area,
    ModelCard,
    Namespace,
    register_model,
    register_namespace,
    uniform_bins,
)
from brainlike.transforms import IMAGENET_MEAN, IMAGENET_STD, PRESETS, Preset
from brainlike.weights import WeightSpec
from brainlike.wrap import attach_taps

TORCHVISION = (
    "TorchVision maintainers and contributors (2016). TorchVision: PyTorch's Computer Vision library. "
    "https://github.com/pytorch/vision"
)
_HASH = re.compile(r"-([0-9a-f]{6,})\.[a-z]+$")
_AUX = ("googlenet", "inception_v3")


def names() -> list[str]:
    import torchvision.models

    return list(torchvision.models.list_models(module=torchvision.models))


def _weights(name: str):
    import torchvision.models

    return torchvision.models.get_model_weights(name)


def hash_prefix(url: str) -> str | None:
    """The sha256 prefix torchvision puts in its file names (`resnet50-11ad3fa6.pth`), if any."""
    match = _HASH.search(url.rsplit("/", 1)[-1])
    return match.group(1) if match else None


def weight_specs(name: str) -> dict[str, WeightSpec]:
    """The torchvision weights of `name`, DEFAULT first, as brainlike weight entries."""
    enum = _weights(name)
    members = [enum.DEFAULT] + [m for m in enum if m is not enum.DEFAULT]
    return {
        m.name: WeightSpec(
            url=m.url,
            sha256=hash_prefix(m.url),
            config={"weights_tag": m.name, "num_classes": len(m.meta["categories"])},
            description=_describe(m),
            # torchvision is BSD-3-Clause; its docs: pre-trained models "may have their own licenses or terms
            # and conditions derived from the dataset used for training"
            licence="BSD-3-Clause (torchvision); the training data's terms may apply",
            source="https://github.com/pytorch/vision",
            citation=TORCHVISION,
            parameters=m.meta.get("num_params"),
        )
        for m in members
    }


def _describe(member) -> str:
    metrics = member.meta.get("_metrics", {}).get("ImageNet-1K", {})
    top1 = f", ImageNet top-1 {metrics['acc@1']}%" if "acc@1" in metrics else ""
    return f"torchvision {member}{top1}; recipe {member.meta.get('recipe', 'n/a')}"


def preprocessing_of(member) -> tuple[str, int, tuple[str, ...]]:
    """(preset name, input size, notes) matching the eval transform of a torchvision weight entry."""
    keywords = member.transforms.keywords
    crop = int(keywords.get("crop_size", 224))
    resize = int(keywords.get("resize_size", 256))
    mean, std = tuple(keywords.get("mean", IMAGENET_MEAN)), tuple(keywords.get("std", IMAGENET_STD))
    interpolation = str(keywords.get("interpolation", "bilinear")).rsplit(".", 1)[-1].lower()
    notes = ()
    if interpolation != "bilinear":
        notes = (
            f"torchvision evaluates {member} with {interpolation} resizing; brainlike's presets resize bilinearly",
        )
    if mean == IMAGENET_MEAN and std == IMAGENET_STD and round(crop / 0.875) == resize:
        return "imagenet_crop", crop, notes
    preset = f"torchvision_{resize}_{crop}"
    PRESETS.setdefault(preset, Preset(mean, std, "center_crop", crop / resize))
    return preset, crop, notes


def card(name: str, weights_tag: str | None = None, num_classes: int = 1000, **_config) -> ModelCard:
    specs = weight_specs(name)
    enum = _weights(name)
    member = enum[weights_tag] if weights_tag else enum.DEFAULT
    preprocessing, size, notes = preprocessing_of(member)
    committed = commitment(name)
    areas = ()
    if committed is not None:
        mapping, source = committed
        areas = tuple(
            Area(a, {"output": f"taps.{a}"}, uniform_bins(BRAINSCORE_LATENCIES_MS[a], 100, 1), region=a)
            for a in mapping
        )
        notes += (f"areas -> modules ({source}): " + ", ".join(f"{a} {p}" for a, p in mapping.items()),)
    else:
        notes += ("no default area commitment: use brainlike.wrap(model, areas=...) or record(..., layers=...)",)
    return ModelCard(
        name=f"torchvision:{name}",
        family="torchvision",
        areas=areas,
        input_size=size,
        visual_degrees=8.0,  # Brain-Score's default field of view for models without their own
        num_classes=num_classes,
        preprocessing=preprocessing,
        citation=TORCHVISION,
        weights=specs,
        description=f"torchvision {name}",
        notes=notes,
    )


def build(name: str, weights_tag: str | None = None, num_classes: int = 1000, **config) -> nn.Module:
    import torchvision.models

    if name in _AUX:  # the published checkpoints were saved without the auxiliary heads' use at eval
        config.setdefault("aux_logits", False)
        config.setdefault("init_weights", True)
    model = torchvision.models.get_model(name, weights=None, num_classes=num_classes, **config)
    committed = commitment(name)
    if committed is not None:
        attach_taps(model, committed[0])
    if name in _AUX:
        model.adapt_checkpoint = types.MethodType(_drop_aux, model)
    model.readouts = types.MethodType(readouts, model)
    return model


def readouts(self: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The one readout of a feed-forward model."""
    return [self(x)]


def _drop_aux(self: nn.Module, state_dict: dict, _extras: dict) -> dict:
    own = self.state_dict()
    return {k: v for k, v in state_dict.items() if k in own or not k.startswith(("aux", "AuxLogits"))}


def _entry(name: str):
    known = names()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join('torchvision:' + c for c in close)}?" if close else ""
        raise BrainlikeError(f"unknown torchvision model {name!r}{hint} (list_models('torchvision:*') lists them)")
    return partial(build, name), partial(card, name)


register_namespace("torchvision", Namespace(names=names, entry=_entry))


# ------------------------------------------------------------------------------------- baselines
# Plain names, because they are the references the measurements name: AlexNet is the ImageNet-C baseline of
# mCE (Hendrycks & Dietterich 2019), ResNet-50 the usual 224-px reference. Both use torchvision's V1 weights
# (resize 256, crop 224), the ones those references were measured with.

HENDRYCKS = (
    "Hendrycks D, Dietterich T (2019). Benchmarking Neural Network Robustness to Common Corruptions and "
    "Perturbations. ICLR 2019. arXiv:1903.12261"
)


def _baseline_card(name: str, citation: str, weights_tag: str = "IMAGENET1K_V1", num_classes: int = 1000):
    full = card(name, weights_tag=weights_tag, num_classes=num_classes)
    spec = full.weights[weights_tag]
    return ModelCard(
        name=name,
        family="baseline",
        areas=full.areas,
        input_size=full.input_size,
        visual_degrees=full.visual_degrees,
        num_classes=num_classes,
        preprocessing=full.preprocessing,
        citation=f"{citation}; {TORCHVISION}",
        weights={"imagenet": spec},
        description=f"{name} (torchvision {weights_tag} weights), baseline",
        notes=full.notes,
    )


ALEXNET = (
    "Krizhevsky A, Sutskever I, Hinton GE (2012). ImageNet Classification with Deep Convolutional Neural "
    "Networks. NeurIPS 2012; " + HENDRYCKS
)
RESNET50 = "He K, Zhang X, Ren S, Sun J (2016). Deep Residual Learning for Image Recognition. CVPR 2016"


@register_model("alexnet", card=partial(_baseline_card, "alexnet", ALEXNET))
def alexnet(weights_tag: str | None = None, num_classes: int = 1000) -> nn.Module:
    return build("alexnet", num_classes=num_classes)


@register_model("resnet50", card=partial(_baseline_card, "resnet50", RESNET50))
def resnet50(weights_tag: str | None = None, num_classes: int = 1000) -> nn.Module:
    return build("resnet50", num_classes=num_classes)
