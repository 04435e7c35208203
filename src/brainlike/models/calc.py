"""CALC networks (Tripp 2019): convolutional networks whose architecture is fitted to macaque anatomy.

An `ArchitectureSpec` (see `brainlike.anatomy`) becomes a network as in the original converter: the
layers and connections of `calc_wiring.prepare` (c and sigma scaled in log space, c^c_scale and
sigma^sigma_scale), then per layer the **mean** of its inbound strided convolutions -> BatchNorm -> ReLU.
No pooling. Element-wise sparsity is a fixed mask per convolution at the fitted density (random, or SNIP
from a batch), applied in the forward pass so masked weights stay zero in effect through training;
`keep_sparse()` also zeroes them.

State-dict keys follow the original `Backbone`: `backbone.bns.{i}`, `backbone.convs.{k}`,
`backbone.subsample_indices.{k}`, `backbone.masks.{k}` (the last two are buffers here).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from importlib import resources

import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.anatomy.spec import ArchitectureSpec, area_of
from brainlike.anatomy.summary import build_summary  # noqa: F401  (the summary lives beside the spec)
from brainlike.anatomy.system import PIXEL_DEGREES
from brainlike.anatomy.wiring import mask_density, padding, prepare
from brainlike.errors import BrainlikeError
from brainlike.registry import Area, ModelCard, register_model

_log = logging.getLogger(__name__)

CITATION = (
    "Tripp B (2019). Approximating the Architecture of Visual Cortex in a Convolutional Network. "
    "Neural Computation 31(8):1551-1591. doi:10.1162/neco_a_01211"
)


class _Tap(nn.Module):
    def __init__(self):
        super().__init__()
        self.output = nn.Identity()


class _Buffers(nn.Module):
    """Holds one buffer per connection under the names '0', '1', ... (state-dict keys `name.k`)."""

    def __init__(self, tensors: list[torch.Tensor]):
        super().__init__()
        for k, tensor in enumerate(tensors):
            self.register_buffer(str(k), tensor)

    def __getitem__(self, k: int) -> torch.Tensor:
        return getattr(self, str(k))


class Backbone(nn.Module):
    """The CALC layers: mean of inbound convs -> BN -> ReLU, with one tap per brain area.

    After each convolution is made, `progress(weights built, weights in all)` is called and the logger
    "brainlike.models.calc" records the count at INFO level (building `calc_ventral`'s 654 M weights and
    their masks takes about a minute; `create_model` shows it through the logger)."""

    def __init__(
        self,
        spec: ArchitectureSpec,
        *,
        output: str,
        c_scale: float = 1.0,
        sigma_scale: float = 1.0,
        seed: int = 1,
        merge: str = "mean",
        progress: Callable[[int, int], None] | None = None,
    ):
        super().__init__()
        if merge not in ("mean", "sum"):
            raise BrainlikeError(f"merge must be 'mean' or 'sum', not {merge!r}")
        self.merge = merge
        layers, conns, indices = prepare(spec, output=output, c_scale=c_scale, sigma_scale=sigma_scale, seed=seed)
        self.input_name, self.output_name = spec.input_name, output
        self.layer_names = [layer.name for layer in layers]
        self.connections = conns
        self.out_channels = next(layer.channels for layer in layers if layer.name == output)
        self.cumulative_stride = spec.cumulative_stride(output)
        self.bns = nn.ModuleList(nn.BatchNorm2d(layer.channels) for layer in layers)
        channels = {spec.input_name: spec.input_channels} | {layer.name: layer.channels for layer in layers}
        self.convs = nn.ModuleList()
        masks, generator = [], torch.Generator().manual_seed(seed)
        total, done = sum(len(idx) * channels[conn.post] * conn.kernel**2 for conn, idx in zip(conns, indices)), 0
        for conn, idx in zip(conns, indices):  # the global RNG initialises the weights, `generator` the masks
            conv = nn.Conv2d(
                len(idx), channels[conn.post], conn.kernel, stride=conn.stride, padding=padding(conn.kernel)
            )
            self.convs.append(conv)
            masks.append(self._random_mask(conv, conn.sigma, generator))
            done += conv.weight.numel()
            _log.info("CALC: %d of %d weights built (%s)", done, total, conn.name)
            if progress is not None:
                progress(done, total)
        self.subsample_indices = _Buffers([torch.tensor(idx, dtype=torch.long) for idx in indices])
        self.masks = _Buffers(masks)
        self.inbound = [[k for k, conn in enumerate(conns) if conn.post == name] for name in self.layer_names]
        self.pre_of = [conn.pre for conn in conns]
        # the tap of an area carries its main feed-forward output: its widest L2/3 layer, else its last layer
        self.tap_layer: dict[str, str] = {}
        for layer in layers:
            area = area_of(layer.name)
            current = self.tap_layer.get(area)
            is_23 = "2/3" in layer.name
            current_23 = current is not None and "2/3" in current
            if (
                current is None
                or (is_23 and (not current_23 or layer.channels > channels[current]))
                or (not is_23 and not current_23)
            ):
                self.tap_layer[area] = layer.name
        for area in self.tap_layer:
            self.add_module(area, _Tap())

    @staticmethod
    def _random_mask(conv: nn.Conv2d, density: float, generator: torch.Generator) -> torch.Tensor:
        n = conv.weight.numel()
        mask = torch.zeros(n, dtype=torch.bool)
        mask[torch.randperm(n, generator=generator)[: round(n * mask_density(n, density))]] = True
        return mask.view_as(conv.weight)

    def snip(self, loss: torch.Tensor) -> None:
        """Replace the masks by SNIP's: keep the fraction sigma of weights with the largest |w * dL/dw|."""
        grads = torch.autograd.grad(loss, [conv.weight for conv in self.convs], allow_unused=True)
        for k, (conv, grad, conn) in enumerate(zip(self.convs, grads, self.connections)):
            score = (conv.weight.detach() * (grad if grad is not None else 0)).abs().flatten()
            keep = max(1, int(score.numel() * conn.sigma))
            threshold = score.topk(keep).values[-1]
            self.masks[k].copy_((score >= threshold).view_as(conv.weight))

    @torch.no_grad()
    def keep_sparse(self) -> None:
        for k, conv in enumerate(self.convs):
            conv.weight.mul_(self.masks[k])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        acts = {self.input_name: x}
        taps = {layer: area for area, layer in self.tap_layer.items()}
        for i, name in enumerate(self.layer_names):
            outs = []
            for k in self.inbound[i]:
                conv = self.convs[k]
                source = acts[self.pre_of[k]].index_select(1, self.subsample_indices[k])
                outs.append(F.conv2d(source, conv.weight * self.masks[k], conv.bias, conv.stride, conv.padding))
            stacked = torch.stack(outs)
            merged = stacked.mean(0) if self.merge == "mean" else stacked.sum(0)
            act = F.relu(self.bns[i](merged))
            if name in taps:
                act = getattr(self, taps[name]).output(act)
            acts[name] = act
            if name == self.output_name:
                return act
        raise AssertionError("the output layer is always among the kept layers")


class Head(nn.Module):
    """CALC's heads, sized from the backbone: 1x1 conv -> BN -> ReLU -> 2x2 average pool -> MLP."""

    def __init__(
        self, in_channels: int, in_size: int, *, num_classes: int, hidden: tuple[int, ...], dropout: tuple[float, ...]
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 1)
        self.bn1 = nn.BatchNorm2d(64)
        pooled = max(1, in_size // 2)
        layers, width = [], 64 * pooled * pooled
        for size, p in zip(hidden, dropout):
            layers += [nn.Linear(width, size), nn.ReLU(inplace=True), nn.Dropout(p)]
            width = size
        self.mlp = nn.Sequential(*layers)
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.avg_pool2d(x, 2) if min(x.shape[-2:]) >= 2 else x
        return self.classifier(self.mlp(torch.flatten(x, 1)))


# head -> (default classes, hidden widths, dropout after each), as in the original
_HEADS = {"imagenet": (1000, (2048,), (0.5,)), "cifar": (10, (512, 512), (0.5, 0.25))}


class CALCNet(nn.Module):
    """A CALC backbone with a classification head (`head="imagenet"` or `"cifar"`)."""

    def __init__(
        self,
        spec: ArchitectureSpec,
        *,
        output: str,
        input_size: int,
        head: str = "imagenet",
        num_classes: int | None = None,
        c_scale: float = 1.0,
        sigma_scale: float = 1.0,
        seed: int = 1,
        progress: Callable[[int, int], None] | None = None,
    ):
        super().__init__()
        self.backbone = Backbone(
            spec, output=output, c_scale=c_scale, sigma_scale=sigma_scale, seed=seed, progress=progress
        )
        if head not in _HEADS:
            raise BrainlikeError(f"head must be 'imagenet' or 'cifar', not {head!r}")
        classes, hidden, dropout = _HEADS[head]
        size = math.ceil(input_size / self.backbone.cumulative_stride)
        self.head = Head(
            self.backbone.out_channels, size, num_classes=num_classes or classes, hidden=hidden, dropout=dropout
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))

    def readouts(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self(x)]


def shipped_spec(name: str) -> ArchitectureSpec:
    """A fitted spec shipped in `brainlike/anatomy/data/specs/`."""
    path = resources.files("brainlike.anatomy") / "data" / "specs" / f"{name}.json"
    if not path.is_file():
        raise BrainlikeError(f"no shipped CALC spec {name!r}")
    return ArchitectureSpec.from_dict(json.loads(path.read_text()))


# the shipped specs were fitted to macaque systems at their default pixel width
_VARIANTS = {
    "calc_ventral": {
        "spec": "ventral_224",
        "output": "TEpd_2/3",
        "input_size": 224,
        "head": "imagenet",
        "degrees": 224 * PIXEL_DEGREES,
        "classes": 1000,
        "preprocessing": "imagenet",
        "labels": "imagenet",
        "description": "LGN, V1, V2, V4, TEO and TE (TEpd) fitted to macaque anatomy; ImageNet head",
    },
    # The laptop variant: the same system (areas, FLNe, SLN, in-degrees, RF sizes in degrees, the same
    # 44.8 deg field) fitted as `calc_ventral` is, but at 0.4 deg pixels (112 px) and with 16 times fewer
    # neurons (miniaturize 400 instead of 25; bench/calc_fit.py SHIPPED["ventral_112"]).
    "calc_ventral_small": {
        "spec": "ventral_112",
        "output": "TEpd_2/3",
        "input_size": 112,
        "head": "imagenet",
        "degrees": 112 * 2 * PIXEL_DEGREES,
        "classes": 1000,
        "preprocessing": "imagenet",
        "labels": "imagenet",
        "description": (
            "calc_ventral miniaturised for a laptop: the same anatomy fitted at 0.4 deg pixels (112 px) with 16x "
            "fewer neurons; 13 M parameters instead of 654 M"
        ),
    },
    "calc_cifar": {
        "spec": "ventral_32",
        "output": "V4_2/3",
        "input_size": 32,
        "head": "cifar",
        "degrees": 32 * PIXEL_DEGREES,
        "classes": 10,
        "preprocessing": "half",
        "labels": None,
        "description": "LGN, V1, V2 and V4 fitted to macaque anatomy at 32 px; CIFAR-10 head",
    },
}


# Brain-Score region -> CALC area: our commitment, not Tripp's. V1, V2 and V4 are the areas of those names;
# IT is TEpd, the last area (TE, the bulk of inferior temporal cortex; TEO, posterior IT, stays uncommitted).
REGIONS = {"V1": "V1", "V2": "V2", "V4": "V4", "IT": "TEpd"}
_REGION_NOTE = (
    "region commitments (ours, not published): "
    + ", ".join(f"{region} -> {area}" for region, area in REGIONS.items())
    + " where the network has the area; TEO (posterior IT) is not committed"
)


def _card(variant: str) -> ModelCard:
    v = _VARIANTS[variant]
    spec = shipped_spec(v["spec"])
    last = next(i for i, layer in enumerate(spec.layers) if layer.name == v["output"])
    backbone_areas = dict.fromkeys(area_of(layer.name) for layer in spec.layers[: last + 1])
    region_of = {area: region for region, area in REGIONS.items()}
    areas = tuple(
        Area(name=a, taps={"output": f"backbone.{a}.output"}, time_bins=(None,), region=region_of.get(a))
        for a in backbone_areas
    )
    return ModelCard(
        name=variant,
        family="calc",
        areas=areas,
        input_size=v["input_size"],
        visual_degrees=v["degrees"],
        num_classes=v["classes"],
        preprocessing=v["preprocessing"],
        citation=CITATION,
        labels=v["labels"],
        description=v["description"],
        notes=("Architecture fitted by brainlike.anatomy from shipped tables; no published weights.", _REGION_NOTE),
    )


def _build(variant: str, **config) -> CALCNet:
    v = _VARIANTS[variant]
    return CALCNet(shipped_spec(v["spec"]), output=v["output"], input_size=v["input_size"], head=v["head"], **config)


@register_model("calc_ventral", card=lambda **_: _card("calc_ventral"))
def calc_ventral(
    *,
    c_scale: float = 1.0,
    sigma_scale: float = 1.0,
    seed: int = 1,
    num_classes: int | None = None,
) -> CALCNet:
    return _build("calc_ventral", c_scale=c_scale, sigma_scale=sigma_scale, seed=seed, num_classes=num_classes)


@register_model("calc_ventral_small", card=lambda **_: _card("calc_ventral_small"))
def calc_ventral_small(
    *,
    c_scale: float = 1.0,
    sigma_scale: float = 1.0,
    seed: int = 1,
    num_classes: int | None = None,
) -> CALCNet:
    return _build(
        "calc_ventral_small",
        c_scale=c_scale,
        sigma_scale=sigma_scale,
        seed=seed,
        num_classes=num_classes,
    )


@register_model("calc_cifar", card=lambda **_: _card("calc_cifar"))
def calc_cifar(
    *,
    c_scale: float = 1.0,
    sigma_scale: float = 1.0,
    seed: int = 1,
    num_classes: int | None = None,
) -> CALCNet:
    return _build("calc_cifar", c_scale=c_scale, sigma_scale=sigma_scale, seed=seed, num_classes=num_classes)
