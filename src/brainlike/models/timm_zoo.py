"""timm models as `timm:<name>` (when timm is installed; without it, one line says `pip install timm`).

Built with random weights through `timm.create_model`; `pretrained=` takes a local checkpoint file (timm's
own downloads go through the Hugging Face cache, not brainlike's, so published timm weights are not offered
here). The card takes input size and normalisation from timm's pretrained configuration; no areas are
committed: name them with `brainlike.wrap(model, areas=...)` or read modules with `record(..., layers=...)`.
"""

from __future__ import annotations

import difflib
from functools import partial

import torch.nn as nn

from brainlike.errors import BrainlikeError
from brainlike.registry import ModelCard, Namespace, register_namespace
from brainlike.transforms import IMAGENET_MEAN, IMAGENET_STD, PRESETS, Preset

TIMM = "Wightman R (2019). PyTorch Image Models. https://github.com/huggingface/pytorch-image-models"


def _timm():
    try:
        import timm
    except ImportError:
        raise BrainlikeError("timm: models need the timm package: pip install timm") from None
    return timm


def names() -> list[str]:
    return list(_timm().list_models())


def card(name: str, num_classes: int | None = None, **_config) -> ModelCard:
    cfg = _pretrained_cfg(name)
    size = int(cfg.get("input_size", (3, 224, 224))[-1])
    mean, std = tuple(cfg.get("mean", IMAGENET_MEAN)), tuple(cfg.get("std", IMAGENET_STD))
    crop = float(cfg.get("crop_pct", 0.875))
    if mean == IMAGENET_MEAN and std == IMAGENET_STD and abs(crop - 0.875) < 1e-6:
        preprocessing = "imagenet_crop"
    else:
        preprocessing = f"timm_{crop:g}_{'_'.join(f'{v:g}' for v in mean + std)}"
        PRESETS.setdefault(preprocessing, Preset(mean, std, "center_crop", crop))
    classes = num_classes if num_classes is not None else int(cfg.get("num_classes", 1000))
    return ModelCard(
        name=f"timm:{name}",
        family="timm",
        areas=(),
        input_size=size,
        visual_degrees=8.0,
        num_classes=classes,
        preprocessing=preprocessing,
        citation=TIMM,
        description=f"timm {name}",
        notes=("no default area commitment: use brainlike.wrap(model, areas=...) or record(..., layers=...)",),
    )


def _pretrained_cfg(name: str) -> dict:
    cfg = _timm().models.get_pretrained_cfg(name)
    if cfg is None:
        return {}
    return cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg)


def build(name: str, **config) -> nn.Module:
    return _timm().create_model(name, pretrained=False, **config)


def _entry(name: str):
    known = names()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join('timm:' + c for c in close)}?" if close else ""
        raise BrainlikeError(f"unknown timm model {name!r}{hint}")
    return partial(build, name), partial(card, name)


register_namespace("timm", Namespace(names=names, entry=_entry))
