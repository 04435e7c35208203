"""CORnet-Z, -R, -RT and -S (Kubilius et al. 2018, 2019): four areas V1, V2, V4, IT and a decoder.

Module trees and state_dict keys are those of the original `dicarlolab/CORnet` code, so the official
checkpoints load unchanged. Behaviour follows the originals, with three deliberate differences that
leave the outputs at 224 px unchanged:

- R/RT accept any input size: an area's image-independent output at t=0 takes its spatial size from
  the area below instead of a hard-coded 56/28/14/7 map, and is created on the input's device.
- S changes the stride of `conv2` per step with a functional convolution instead of mutating the
  module during forward (safe for tracing, compile and DDP); the weight key is the same.
- Every model also offers `readouts(x)`; R/RT decode only their last step, as the originals do.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.kernels.winograd import SharedKernel3x3
from brainlike.registry import BRAINSCORE_LATENCIES_MS, Area, ModelCard, register_model, uniform_bins
from brainlike.weights import WeightSpec

AREAS = ("V1", "V2", "V4", "IT")
CITATION_2018 = (
    "Kubilius J, Schrimpf M, Nayebi A, Bear D, Yamins DLK, DiCarlo JJ (2018). CORnet: Modeling the "
    "Neural Mechanisms of Core Object Recognition. bioRxiv 408385. doi:10.1101/408385"
)
CITATION_2019 = (
    "Kubilius J*, Schrimpf M*, Kar K, Rajalingham R, Hong H, Majaj NJ, Issa EB, Bashivan P, "
    "Prescott-Roy J, Schmidt K, Nayebi A, Bear D, Yamins DLK, DiCarlo JJ (2019). Brain-Like Object "
    "Recognition with High-Performing Shallow Recurrent ANNs. NeurIPS 2019. arXiv:1909.06161"
)
_URL = "https://s3.amazonaws.com/cornet-models/cornet_{}-{}.pth"


def _official(letter: str, hash_prefix: str, parameters: int, citation: str) -> dict[str, WeightSpec]:
    return {
        "imagenet": WeightSpec(
            url=_URL.format(letter, hash_prefix),
            sha256=hash_prefix,
            description="ImageNet-1k, official release (DataParallel format)",
            licence="GPL-3.0-or-later",  # the repository's README, section License: "GNU GPL 3+"
            source="https://github.com/dicarlolab/CORnet",
            citation=citation,
            parameters=parameters,
        )
    }


class Decoder(nn.Sequential):
    """Global average pool -> flatten -> linear readout, with an `output` tap where the original has one."""

    def __init__(self, num_classes: int = 1000, *, output_tap: bool = True):
        layers = [
            ("avgpool", nn.AdaptiveAvgPool2d(1)),
            ("flatten", nn.Flatten()),
            ("linear", nn.Linear(512, num_classes)),
        ]
        if output_tap:
            layers.append(("output", nn.Identity()))
        super().__init__(OrderedDict(layers))


# ---------------------------------------------------------------------------------------- CORnet-Z


class CORblockZ(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: int = 3, stride: int = 1):
        super().__init__(
            OrderedDict(
                [
                    ("conv", nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2)),
                    ("nonlin", nn.ReLU(inplace=True)),
                    ("pool", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
                    ("output", nn.Identity()),
                ]
            )
        )


class CORnetZ(nn.Sequential):
    def __init__(self, *, num_classes: int = 1000):
        super().__init__(
            OrderedDict(
                [
                    ("V1", CORblockZ(3, 64, kernel_size=7, stride=2)),
                    ("V2", CORblockZ(64, 128)),
                    ("V4", CORblockZ(128, 256)),
                    ("IT", CORblockZ(256, 512)),
                    ("decoder", Decoder(num_classes)),
                ]
            )
        )
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def readouts(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self(x)]


# ----------------------------------------------------------------------------- CORnet-R and -RT


class CORblockR(nn.Module):
    """conv_input -> GN -> ReLU gives the drive; the state is added before the shared conv1 -> GN -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: int = 3, stride: int = 1):
        super().__init__()
        self.conv_input = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2)
        self.norm_input = nn.GroupNorm(32, out_channels)
        self.nonlin_input = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.norm1 = nn.GroupNorm(32, out_channels)
        self.nonlin1 = nn.ReLU(inplace=True)
        self.output = nn.Identity()

    def drive_size(self, height: int, width: int) -> tuple[int, int]:
        """Spatial size of `conv_input`'s output for an input of height x width."""
        (k, _), (s, _), (p, _) = self.conv_input.kernel_size, self.conv_input.stride, self.conv_input.padding
        return (height + 2 * p - k) // s + 1, (width + 2 * p - k) // s + 1

    def resting(self, batch: int, height: int, width: int) -> torch.Tensor:
        """The output for zero drive and zero state: conv1(0) = 0 and GroupNorm(0) = beta exactly."""
        beta = self.norm1.bias.view(1, -1, 1, 1)
        return self.output(F.relu(beta.expand(batch, -1, height, width)).contiguous())

    def forward(self, inp: torch.Tensor, state: torch.Tensor | None) -> torch.Tensor:
        drive = self.nonlin_input(self.norm_input(self.conv_input(inp)))
        if state is not None:
            drive = drive + state
        return self.output(self.nonlin1(self.norm1(self.conv1(drive))))


class CORnetR(nn.Module):
    """CORnet-R (unroll="sequential") and CORnet-RT (unroll="biological"), unrolled for `times` steps.

    sequential: at step t each area reads the area below at the same step t (a full sweep per step).
    biological: each area reads the area below at step t-1, so image information reaches V2 at t=1,
    V4 at t=2 and IT at t=3. At t=0 areas above V1 have no drive in both modes.
    """

    def __init__(self, *, times: int = 5, unroll: str = "sequential", num_classes: int = 1000):
        super().__init__()
        if unroll not in ("sequential", "biological"):
            raise ValueError(f"unroll must be 'sequential' or 'biological', not {unroll!r}")
        if times < 1:
            raise ValueError(f"times must be at least 1, not {times}")
        self.times = times
        self.unroll = unroll
        self.V1 = CORblockR(3, 64, kernel_size=7, stride=4)
        self.V2 = CORblockR(64, 128, stride=2)
        self.V4 = CORblockR(128, 256, stride=2)
        self.IT = CORblockR(256, 512, stride=2)
        self.decoder = Decoder(num_classes, output_tap=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        blocks = [self.V1, self.V2, self.V4, self.IT]
        outputs = [self.V1(x, None)]
        height, width = outputs[0].shape[-2:]
        for block in blocks[1:]:
            height, width = block.drive_size(height, width)
            outputs.append(block.resting(x.shape[0], height, width))
        for _ in range(1, self.times):
            below = outputs if self.unroll == "biological" else None
            new = [self.V1(x, outputs[0])]
            for i, block in enumerate(blocks[1:], start=1):
                source = below[i - 1] if below is not None else new[i - 1]
                new.append(block(source, outputs[i]))
            outputs = new
        return self.decoder(outputs[-1])

    def readouts(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self(x)]


# ---------------------------------------------------------------------------------------- CORnet-S


class CORblockS(nn.Module):
    """A bottleneck block repeated `times` times with shared convs and one set of BatchNorms per step.

    Step 0 downsamples (conv2 with stride 2, and a strided 1x1 conv + BN on the skip path); later steps
    keep the resolution and use an identity skip. In CPU inference the wide stride-1 conv2 of the later
    steps runs as a Winograd convolution (`kernels/winograd.py`; equal to direct convolution to float32
    rounding), its kernel transformed once per forward pass.
    """

    scale = 4

    def __init__(self, in_channels: int, out_channels: int, *, times: int):
        super().__init__()
        self.times = times
        wide = out_channels * self.scale
        self.conv_input = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.skip = nn.Conv2d(out_channels, out_channels, 1, stride=2, bias=False)
        self.norm_skip = nn.BatchNorm2d(out_channels)
        self.conv1 = nn.Conv2d(out_channels, wide, 1, bias=False)
        self.nonlin1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(wide, wide, 3, padding=1, bias=False)
        self.nonlin2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(wide, out_channels, 1, bias=False)
        self.nonlin3 = nn.ReLU(inplace=True)
        self.output = nn.Identity()
        for t in range(times):
            setattr(self, f"norm1_{t}", nn.BatchNorm2d(wide))
            setattr(self, f"norm2_{t}", nn.BatchNorm2d(wide))
            setattr(self, f"norm3_{t}", nn.BatchNorm2d(out_channels))

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        x = self.conv_input(inp)
        conv2 = SharedKernel3x3(self.conv2.weight, calls=self.times - 1)
        for t in range(self.times):
            skip = self.norm_skip(self.skip(x)) if t == 0 else x
            y = self.nonlin1(getattr(self, f"norm1_{t}")(self.conv1(x)))
            y = conv2(y, stride=2 if t == 0 else 1)
            y = self.nonlin2(getattr(self, f"norm2_{t}")(y))
            y = getattr(self, f"norm3_{t}")(self.conv3(y))
            x = self.output(self.nonlin3(y + skip))
        return x


def init_cornet_s(model: nn.Module) -> None:
    """Fan-out He init for convs, unit BatchNorm; Linear layers keep PyTorch's default, as in the
    original (whose authors note they forgot it when training the published weights)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            fan_out = module.kernel_size[0] * module.kernel_size[1] * module.out_channels
            nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / fan_out))
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class CORnetS(nn.Sequential):
    def __init__(self, *, num_classes: int = 1000, times: tuple[int, int, int] = (2, 4, 2)):
        v2_times, v4_times, it_times = times
        super().__init__(
            OrderedDict(
                [
                    (
                        "V1",
                        nn.Sequential(
                            OrderedDict(
                                [
                                    ("conv1", nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)),
                                    ("norm1", nn.BatchNorm2d(64)),
                                    ("nonlin1", nn.ReLU(inplace=True)),
                                    ("pool", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
                                    ("conv2", nn.Conv2d(64, 64, 3, padding=1, bias=False)),
                                    ("norm2", nn.BatchNorm2d(64)),
                                    ("nonlin2", nn.ReLU(inplace=True)),
                                    ("output", nn.Identity()),
                                ]
                            )
                        ),
                    ),
                    ("V2", CORblockS(64, 128, times=v2_times)),
                    ("V4", CORblockS(128, 256, times=v4_times)),
                    ("IT", CORblockS(256, 512, times=it_times)),
                    ("decoder", Decoder(num_classes)),
                ]
            )
        )
        init_cornet_s(self)

    def readouts(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self(x)]


# ------------------------------------------------------------------------------------------- cards


def _card(family_name: str, areas: tuple[Area, ...], weights, citation: str, notes=()) -> ModelCard:
    return ModelCard(
        name=family_name,
        family="cornet",
        areas=areas,
        input_size=224,
        visual_degrees=8,
        num_classes=1000,
        preprocessing="imagenet",
        citation=citation,
        weights=weights,
        notes=tuple(notes),
    )


def _area(name: str, bins, silent=()) -> Area:
    return Area(name, {"output": f"{name}.output"}, tuple(bins), tuple(silent), region=name)


def cornet_z_card(**_) -> ModelCard:
    # Time bins of Brain-Score's candidate_models commitment for CORnet-Z.
    areas = tuple(_area(a, uniform_bins(BRAINSCORE_LATENCIES_MS[a], 100, 1)) for a in AREAS)
    return _card("cornet_z", areas, _official("z", "5c427c9c", 2_071_656, CITATION_2018), CITATION_2018)


def cornet_s_card(times: tuple[int, int, int] = (2, 4, 2), **_) -> ModelCard:
    # Brain-Score's CORnet-S TIME_MAPPINGS: (start ms, step ms) per region.
    timing = {"V1": (50, 100, 1), "V2": (70, 100, times[0]), "V4": (90, 50, times[1]), "IT": (100, 100, times[2])}
    areas = tuple(_area(a, uniform_bins(*timing[a])) for a in AREAS)
    return _card(
        "cornet_s",
        areas,
        _official("s", "1d3f7974", 53_416_616, CITATION_2019) if tuple(times) == (2, 4, 2) else {},
        CITATION_2019,
    )


# Brain-Score's legacy commitment for CORnet-R (5 steps); step 0 of V2/V4/IT has no bin because it
# does not depend on the image.
_R_LEGACY_BINS = {
    "V1": uniform_bins(50, 30, 5),
    "V2": (None, (60, 110), (110, 140), (140, 170), (170, 200)),
    "V4": (None, (70, 110), (140, 170), (170, 200), (200, 250)),
    "IT": (None, (70, 110), (140, 170), (170, 200), (200, 250)),
}


def _recurrent_card(name: str, times: int, unroll: str, weights, citation: str) -> ModelCard:
    # Step t of area k (V1=0 ... IT=3) is image-independent while t < k (biological) or t = 0 (sequential).
    areas = []
    for level, area in enumerate(AREAS):
        silent = tuple(range(min(level, times))) if unroll == "biological" else ((0,) if level else ())
        if times == 5 and unroll == "sequential":
            bins = _R_LEGACY_BINS[area]
        else:
            bins = tuple(None if t in silent else (50 + 30 * t, 80 + 30 * t) for t in range(times))
        areas.append(_area(area, bins, silent))
    notes = [f"Only the last of the {times} steps is decoded."]
    if unroll == "biological":
        notes.append(
            "IT does not depend on the image at steps 0-2 (V2 at 0, V4 at 0-1): image information "
            "climbs one area per step (CORnet GitHub issue #17)."
        )
    else:
        notes.append("V2, V4 and IT do not depend on the image at step 0.")
    return _card(name, tuple(areas), weights, citation, notes)


def cornet_r_card(times: int = 5, **_) -> ModelCard:
    return _recurrent_card(
        "cornet_r", times, "sequential", _official("r", "5930a990", 5_208_936, CITATION_2018), CITATION_2018
    )


def cornet_rt_card(times: int = 5, **_) -> ModelCard:
    return _recurrent_card(
        "cornet_rt", times, "biological", _official("rt", "933c001c", 5_208_936, CITATION_2018), CITATION_2018
    )


@register_model("cornet_z", card=cornet_z_card)
def cornet_z(*, num_classes: int = 1000) -> CORnetZ:
    return CORnetZ(num_classes=num_classes)


@register_model("cornet_r", card=cornet_r_card)
def cornet_r(*, times: int = 5, num_classes: int = 1000) -> CORnetR:
    return CORnetR(times=times, unroll="sequential", num_classes=num_classes)


@register_model("cornet_rt", card=cornet_rt_card)
def cornet_rt(*, times: int = 5, num_classes: int = 1000) -> CORnetR:
    return CORnetR(times=times, unroll="biological", num_classes=num_classes)


@register_model("cornet_s", card=cornet_s_card)
def cornet_s(*, num_classes: int = 1000, times: tuple[int, int, int] = (2, 4, 2)) -> CORnetS:
    return CORnetS(num_classes=num_classes, times=tuple(times))
