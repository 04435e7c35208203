"""CALC networks (Tripp 2019): convolutional networks whose architecture is fitted to macaque anatomy.

An `ArchitectureSpec` (see `brainlike.anatomy`) becomes a network as in the original converter:
c = 1 for inputs from the image and the LGN, V1 L4C output shares renormalised, c and sigma scaled in
log space (c^c_scale, sigma^sigma_scale), seeded channel subsampling that keeps projections mostly
disjoint, pruning of unused maps, connections and layers, odd kernels, then per layer the **mean** of
its inbound strided convolutions -> BatchNorm -> ReLU. No pooling. Element-wise sparsity is a fixed
mask per convolution at the fitted density (random, or SNIP from a batch), applied in the forward
pass so masked weights stay zero in effect through training; `keep_sparse()` also zeroes them.

State-dict keys follow the original `Backbone`: `backbone.bns.{i}`, `backbone.convs.{k}`,
`backbone.subsample_indices.{k}`, `backbone.masks.{k}` (the last two are buffers here).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from importlib import resources

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.anatomy.spec import ArchitectureSpec, ConnectionSpec, LayerSpec, area_of
from brainlike.anatomy.system import PIXEL_DEGREES
from brainlike.errors import BrainlikeError
from brainlike.registry import Area, ModelCard, register_model

CITATION = (
    "Tripp B (2019). Approximating the Architecture of Visual Cortex in a Convolutional Network. "
    "Neural Computation 31(8):1551-1591. doi:10.1162/neco_a_01211"
)
REPICK_FACTOR = 0.01


def prepare(
    spec: ArchitectureSpec, *, output: str, c_scale: float = 1.0, sigma_scale: float = 1.0, seed: int = 1
) -> tuple[list[LayerSpec], list[ConnectionSpec], list[list[int]]]:
    """The original `preprocess`: rounded maps, c rules and scaling, map subsampling, pruning, odd kernels.

    Returns the kept layers (inputs first), their connections and each connection's pre-map indices.
    """
    spec.layer(output)
    conns = _c_rules(spec, c_scale, sigma_scale)
    channels = {spec.input_name: spec.input_channels} | {layer.name: round(layer.channels) for layer in spec.layers}
    indices = _subsample(conns, channels, seed)
    _drop_unread_maps(conns, indices, channels, keep_all=(spec.input_name, output))
    conns, indices = _kept(conns, indices, lambda conn, idx: idx and channels[conn.post] > 0 and channels[conn.pre] > 0)
    alive = _alive(spec, output, conns)
    conns, indices = _kept(conns, indices, lambda conn, idx: conn.pre in alive and conn.post in alive)
    layers = [replace(layer, channels=channels[layer.name]) for layer in spec.layers if layer.name in alive]
    conns = [replace(conn, kernel=_odd(conn.kernel), stride=int(round(conn.stride))) for conn in conns]
    return layers, conns, indices


def _with_c(conn: ConnectionSpec, c: float) -> ConnectionSpec:
    """`conn` reading the fraction c of its pre maps, sigma changed to keep c * sigma, the in-degree the fit matched."""
    return replace(conn, c=c, sigma=min(1.0, conn.sigma * conn.c / c))


def _c_rules(spec: ArchitectureSpec, c_scale: float, sigma_scale: float) -> list[ConnectionSpec]:
    """c = 1 from the image and the LGN, V1 L4C output shares renormalised, then c^c_scale and sigma^sigma_scale."""
    conns = [
        _with_c(conn, 1.0) if conn.pre == spec.input_name or "LGN" in conn.pre else conn for conn in spec.connections
    ]
    for l4c in ("V1_4Calpha", "V1_4Cbeta"):
        outs = [k for k, conn in enumerate(conns) if conn.pre == l4c]
        total = sum(conns[k].c * conns[k].sigma for k in outs)
        for k in outs:
            conns[k] = _with_c(conns[k], conns[k].c * conns[k].sigma / total)
    return [replace(conn, c=conn.c**c_scale, sigma=min(1.0, conn.sigma**sigma_scale)) for conn in conns]


def _subsample(conns: list[ConnectionSpec], channels: dict[str, int], seed: int) -> list[list[int]]:
    """Each connection's pre maps, drawn (seeded) so that a layer's projections of one kind (to other areas,
    or within its area) mostly read different maps: a map drawn is REPICK_FACTOR times less likely again."""
    rng = np.random.RandomState(seed)
    preference = {name: {kind: np.ones(m) for kind in ("area", "layer")} for name, m in channels.items()}
    indices = []
    for conn in conns:
        m_pre = channels[conn.pre]
        kind = "layer" if area_of(conn.pre) == area_of(conn.post) else "area"
        p = preference[conn.pre][kind]
        chosen = np.sort(rng.choice(m_pre, int(round(m_pre * conn.c)), replace=False, p=p / p.sum()))
        p[chosen] *= REPICK_FACTOR
        indices.append(chosen.tolist())
    return indices


def _drop_unread_maps(conns: list, indices: list[list[int]], channels: dict, keep_all: tuple[str, ...]) -> None:
    """Drop the maps no connection reads from `channels` (except those of `keep_all`), renumbering `indices`."""
    for name in channels:
        if name in keep_all:
            continue
        outs = [k for k, conn in enumerate(conns) if conn.pre == name]
        used = sorted(set().union(*(indices[k] for k in outs))) if outs else []
        position = {old: new for new, old in enumerate(used)}
        for k in outs:
            indices[k] = [position[i] for i in indices[k]]
        channels[name] = len(used)


def _kept(conns: list[ConnectionSpec], indices: list[list[int]], keep) -> tuple[list, list]:
    """The connections, and their indices, for which keep(connection, indices) holds."""
    pairs = [(conn, idx) for conn, idx in zip(conns, indices) if keep(conn, idx)]
    return [conn for conn, _ in pairs], [idx for _, idx in pairs]


def _alive(spec: ArchitectureSpec, output: str, conns: list[ConnectionSpec]) -> set[str]:
    """The layers on a path from the input to the output."""
    reaches = {output}
    for layer in reversed(spec.layers):
        if any(conn.pre == layer.name and conn.post in reaches for conn in conns):
            reaches.add(layer.name)
    alive = {spec.input_name}
    for layer in spec.layers:
        if layer.name in reaches and any(conn.post == layer.name and conn.pre in alive for conn in conns):
            alive.add(layer.name)
    if output not in alive:
        raise BrainlikeError(f"after pruning, {output} is no longer connected to the input")
    return alive


def _odd(width: float) -> int:
    w = max(1, int(round(width)))
    return w + 1 if w % 2 == 0 else w


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
    """The CALC layers: mean of inbound convs -> BN -> ReLU, with one tap per brain area."""

    def __init__(
        self,
        spec: ArchitectureSpec,
        *,
        output: str,
        c_scale: float = 1.0,
        sigma_scale: float = 1.0,
        seed: int = 1,
        merge: str = "mean",
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
        self.convs = nn.ModuleList(
            nn.Conv2d(
                len(idx), channels[conn.post], conn.kernel, stride=conn.stride, padding=math.ceil((conn.kernel - 1) / 2)
            )
            for conn, idx in zip(conns, indices)
        )
        self.subsample_indices = _Buffers([torch.tensor(idx, dtype=torch.long) for idx in indices])
        generator = torch.Generator().manual_seed(seed)
        self.masks = _Buffers([self._random_mask(conv, conn.sigma, generator) for conv, conn in zip(self.convs, conns)])
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
        mask[torch.randperm(n, generator=generator)[: max(1, round(n * density))]] = True
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
    ):
        super().__init__()
        self.backbone = Backbone(spec, output=output, c_scale=c_scale, sigma_scale=sigma_scale, seed=seed)
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


def _card(variant: str) -> ModelCard:
    v = _VARIANTS[variant]
    spec = shipped_spec(v["spec"])
    last = next(i for i, layer in enumerate(spec.layers) if layer.name == v["output"])
    backbone_areas = dict.fromkeys(area_of(layer.name) for layer in spec.layers[: last + 1])
    areas = tuple(Area(name=a, taps={"output": f"backbone.{a}.output"}, time_bins=(None,)) for a in backbone_areas)
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
        notes=("Architecture fitted by brainlike.anatomy from shipped tables; no published weights.",),
    )


def _build(variant: str, **config) -> CALCNet:
    v = _VARIANTS[variant]
    return CALCNet(shipped_spec(v["spec"]), output=v["output"], input_size=v["input_size"], head=v["head"], **config)


@register_model("calc_ventral", card=lambda **_: _card("calc_ventral"))
def calc_ventral(
    *, c_scale: float = 1.0, sigma_scale: float = 1.0, seed: int = 1, num_classes: int | None = None
) -> CALCNet:
    return _build("calc_ventral", c_scale=c_scale, sigma_scale=sigma_scale, seed=seed, num_classes=num_classes)


@register_model("calc_cifar", card=lambda **_: _card("calc_cifar"))
def calc_cifar(
    *, c_scale: float = 1.0, sigma_scale: float = 1.0, seed: int = 1, num_classes: int | None = None
) -> CALCNet:
    return _build("calc_cifar", c_scale=c_scale, sigma_scale=sigma_scale, seed=seed, num_classes=num_classes)


def build_summary(path: str, *, output: str | None = None, input_size: int | None = None) -> str:
    """A text summary of the backbone built from a spec file: layers, connections, parameters."""
    spec = ArchitectureSpec.load(path)
    output = output or spec.layers[-1].name
    backbone = Backbone(spec, output=output)
    size = input_size or spec.input_width
    with torch.no_grad():
        shape = tuple(backbone.eval()(torch.zeros(1, spec.input_channels, size, size)).shape)
    lines = [
        f"CALC backbone from {path}: {len(backbone.layer_names)} layers, {len(backbone.convs)} convolutions, "
        f"{sum(p.numel() for p in backbone.parameters()):,} parameters; output {output} {shape} "
        f"for a {size} px input"
    ]
    for k, (conn, conv) in enumerate(zip(backbone.connections, backbone.convs)):
        density = backbone.masks[k].float().mean().item()
        lines.append(
            f"  {conn.name:32s} in {conv.in_channels:5d} out {conv.out_channels:5d} "
            f"kernel {conv.kernel_size[0]:3d} stride {conv.stride[0]} density {density:.3f}"
        )
    return "\n".join(lines)
