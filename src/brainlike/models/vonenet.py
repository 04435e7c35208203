"""VOneNets (Dapello, Marques et al. 2020): a fixed VOne block (model V1) in front of a CNN back-end.

The VOne block's 512 channels go through a 1x1 bottleneck (512 -> 64) into a ResNet-50 (without its
stem), AlexNet or CORnet-S (without its V1) back-end. Module names and state_dict keys are the
originals' (`vone_block.simple_conv_q0.weight`, `bottleneck.weight`, `model.layer1.0.conv1.weight`,
...), so the official checkpoints load unchanged: their `module.` prefix is stripped, the two extra
keys of the adversarially trained file are dropped, and their stored `flags` (stride, channel
split, k_exc, noise) configure the block, as the original loader does.

`models.vone_frontend.attach_vone`, registered as the front end "vone", puts a VOne block in place of
the V1 area of a feed-forward backbone: `create_model("cornet_s", frontend="vone")`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

import torch
import torch.nn as nn

from brainlike.errors import BrainlikeError
from brainlike.layers.vone import VOneBlock
from brainlike.models.cornet import CORblockS, Decoder, cornet_s_card, init_cornet_s
from brainlike.models.v1resnet import init_resnet, resnet_stage
from brainlike.registry import BRAINSCORE_LATENCIES_MS, Area, ModelCard, register_model, uniform_bins
from brainlike.weights import WeightSpec

CITATION = (
    "Dapello J*, Marques T*, Schrimpf M, Geiger F, Cox DD, DiCarlo JJ (2020). Simulating a primary visual "
    "cortex at the front of CNNs improves robustness to image perturbations. NeurIPS 33, 13073-13087. "
    "doi:10.1101/2020.06.16.154542"
)
_URL = "https://vonenet-models.s3.us-east-2.amazonaws.com/{}"
# Checkpoint keys of an older VOne block that the published adversarially trained file still holds.
_OBSOLETE_KEYS = ("vone_block.div_u.weight", "vone_block.div_t.weight")
_STRUCTURAL_FLAGS = ("stride", "simple_channels", "complex_channels", "k_exc")
_NOISE_FLAGS = ("noise_mode", "noise_scale", "noise_level")


class ResNetBackEnd(nn.Module):
    """ResNet-50 layer1-layer4 + average pool + fc (torchvision names), with taps V2, V4, IT."""

    def __init__(self, *, num_classes: int = 1000):
        super().__init__()
        self.layer1 = resnet_stage(64, 64, 3, 1)
        self.layer2 = resnet_stage(256, 128, 4, 2)
        self.layer3 = resnet_stage(512, 256, 6, 2)
        self.layer4 = resnet_stage(1024, 512, 3, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, num_classes)
        self.V2, self.V4, self.IT = nn.Identity(), nn.Identity(), nn.Identity()
        init_resnet(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.V2(self.layer2(self.layer1(x)))
        x = self.IT(self.layer4(self.V4(self.layer3(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class AlexNetBackEnd(nn.Module):
    """AlexNet after its first conv, on the 64-channel bottleneck; taps V2 (first pool), V4, IT (avgpool)."""

    def __init__(self, *, num_classes: int = 1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(64, 192, 5, stride=2, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
            nn.Conv2d(192, 384, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Dropout(),
            nn.Linear(256 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )
        self.V2, self.V4, self.IT = nn.Identity(), nn.Identity(), nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.V2(self.features[:3](x))
        x = self.V4(self.features[3:](x))
        x = self.IT(self.avgpool(x))
        return self.classifier(torch.flatten(x, 1))


class CORnetSBackEnd(nn.Sequential):
    """CORnet-S areas V2, V4 and IT and its decoder (V1 is the VOne block)."""

    def __init__(self, *, num_classes: int = 1000, times: tuple[int, int, int] = (2, 4, 2)):
        super().__init__(
            OrderedDict(
                [
                    ("V2", CORblockS(64, 128, times=times[0])),
                    ("V4", CORblockS(128, 256, times=times[1])),
                    ("IT", CORblockS(256, 512, times=times[2])),
                    ("decoder", Decoder(num_classes)),
                ]
            )
        )
        init_cornet_s(self)


BACKENDS = {"resnet50": ResNetBackEnd, "alexnet": AlexNetBackEnd, "cornets": CORnetSBackEnd}


def bottleneck_conv(in_channels: int, out_channels: int) -> nn.Conv2d:
    conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
    nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
    return conv


class VOneNet(nn.Module):
    """vone_block -> bottleneck (1x1, 512 -> 64, no BN or ReLU) -> model (the back-end)."""

    def __init__(self, *, backend: str = "resnet50", num_classes: int = 1000, **vone):
        super().__init__()
        if backend not in BACKENDS:
            raise BrainlikeError(f"unknown VOneNet back-end {backend!r}; known: {', '.join(BACKENDS)}")
        self.backend = backend
        self.vone_block = VOneBlock(**vone)
        self.bottleneck = bottleneck_conv(self.vone_block.simple_channels + self.vone_block.complex_channels, 64)
        self.model = BACKENDS[backend](num_classes=num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(self.bottleneck(self.vone_block(x)))

    def readouts(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self(x)]

    def adapt_checkpoint(self, state_dict: dict, extras: dict) -> dict:
        """Configure the block from an official checkpoint's `flags`; drop the keys it does not use.

        Explicit noise arguments given to `create_model` win over the stored noise flags; a stored
        structural flag that contradicts an explicit argument is an error.
        """
        flags = extras.get("flags") or {}
        if not isinstance(flags, dict):
            raise BrainlikeError("the checkpoint's `flags` entry is not a dict")
        arch = flags.get("arch", flags.get("model_arch"))
        if arch is not None and str(arch).replace("_", "").lower() != self.backend:
            raise BrainlikeError(f"this checkpoint holds a VOne{arch} model, not the {self.backend} back-end")
        asked = dict(getattr(getattr(self, "card", None), "config", {}) or {})
        block = self.vone_block
        for key in _STRUCTURAL_FLAGS:
            if key not in flags:
                continue
            if key in asked and asked[key] != flags[key]:
                raise BrainlikeError(f"the checkpoint was trained with {key}={flags[key]!r}, not {asked[key]!r}")
            if key.endswith("_channels"):
                continue
            setattr(block, key, flags[key])
        if "simple_channels" in flags or "complex_channels" in flags:
            simple = int(flags.get("simple_channels", block.simple_channels))
            complex_ = int(flags.get("complex_channels", block.complex_channels))
            if simple + complex_ != block.simple_channels + block.complex_channels:
                raise BrainlikeError(
                    f"the checkpoint has {simple}+{complex_} VOne channels, the model "
                    f"{block.simple_channels}+{block.complex_channels}"
                )
            block.simple_channels, block.complex_channels = simple, complex_
        noise = {key: flags[key] for key in _NOISE_FLAGS if key in flags and key not in asked}
        if noise:
            mode = noise.get("noise_mode", block.noise_mode)
            block.set_noise(
                None if mode in (None, "None", "none") else mode,
                scale=noise.get("noise_scale"),
                level=noise.get("noise_level"),
            )
        return {k: v for k, v in state_dict.items() if k not in _OBSOLETE_KEYS}


# ------------------------------------------------------------------------------------------- cards


def _feedforward_areas(taps: dict[str, str]) -> tuple[Area, ...]:
    return tuple(
        Area(a, {"output": path}, uniform_bins(BRAINSCORE_LATENCIES_MS[a], 100, 1), region=a)
        for a, path in taps.items()
    )


def _weights(parameters: int, *entries: tuple[str, str, str, dict]) -> dict[str, WeightSpec]:
    return {
        tag: WeightSpec(
            url=_URL.format(file),
            format="torch",
            config=config,
            description=text,
            licence="GPL-3.0-or-later",  # the repository's README, section License: "GNU GPL 3+"
            source="https://github.com/dicarlolab/vonenet",
            citation=CITATION,
            parameters=parameters,
        )
        for tag, file, text, config in entries
    }


VONE_NOTES = (
    "Noise is on by default ('neuronal', as published); block.set_noise(None) makes the model deterministic "
    "and block.fix_noise(seed) makes the noise reproducible.",
    "Gabor orientation 0 gives horizontal stripes (the kernel's x axis runs down the rows).",
    "Official checkpoints: {'flags', 'state_dict'} with a 'module.' prefix; their flags configure the block.",
)


def _vone_card(
    backend: str, areas: tuple[Area, ...], weights, description: str, image_size: int = 224, visual_degrees: float = 8.0
) -> ModelCard:
    return ModelCard(
        name="",
        family="vonenet",
        areas=areas,
        input_size=image_size,
        visual_degrees=visual_degrees,
        num_classes=1000,
        preprocessing="half",
        citation=CITATION,
        weights=weights,
        description=description,
        notes=VONE_NOTES,
    )


def _resnet_card(image_size: int = 224, visual_degrees: float = 8.0, **_) -> ModelCard:
    areas = _feedforward_areas({"V1": "vone_block.output", "V2": "model.V2", "V4": "model.V4", "IT": "model.IT"})
    weights = _weights(
        27_500_264,
        ("imagenet", "voneresnet50_e70.pth.tar", "ImageNet, 70 epochs (the paper's best)", {}),
        ("imagenet_at", "voneresnet50_at_e96.pth.tar", "ImageNet, adversarially trained, 96 epochs", {}),
        ("imagenet_ns", "voneresnet50_ns_e70.pth.tar", "ImageNet, trained without noise", {"noise_mode": None}),
    )
    return _vone_card("resnet50", areas, weights, "VOne block + ResNet-50 back-end", image_size, visual_degrees)


def _alexnet_card(image_size: int = 224, visual_degrees: float = 8.0, **_) -> ModelCard:
    areas = _feedforward_areas({"V1": "vone_block.output", "V2": "model.V2", "V4": "model.V4", "IT": "model.IT"})
    weights = _weights(76_661_800, ("imagenet", "vonealexnet_e70.pth.tar", "ImageNet, 70 epochs", {}))
    return _vone_card("alexnet", areas, weights, "VOne block + AlexNet back-end", image_size, visual_degrees)


def _cornets_card(image_size: int = 224, visual_degrees: float = 8.0, **_) -> ModelCard:
    backbone = cornet_s_card()
    areas = tuple(
        vone_v1_area(backbone.area("V1"), "vone_block.output")
        if a.name == "V1"
        else replace(a, taps={s: f"model.{p}" for s, p in a.taps.items()})
        for a in backbone.areas
    )
    weights = _weights(55_322_856, ("imagenet", "vonecornets_e70.pth.tar", "ImageNet, 70 epochs", {}))
    return _vone_card("cornets", areas, weights, "VOne block + CORnet-S back-end", image_size, visual_degrees)


def vone_v1_area(area: Area, tap: str) -> Area:
    return replace(area, taps={"output": tap}, time_bins=area.time_bins[:1], silent_steps=())


def _builder(backend: str):
    def build(
        *,
        noise_mode: str | None = "neuronal",
        noise_scale: float = 0.35,
        noise_level: float = 0.07,
        k_exc: float = 25.0,
        stride: int = 4,
        simple_channels: int = 256,
        complex_channels: int = 256,
        kernel_size: int = 25,
        image_size: int = 224,
        visual_degrees: float = 8.0,
        gabor_seed: int = 0,
        sf_corr: float = 0.75,
        sf_max: float = 9.0,
        sf_min: float = 0.0,
        uniform_params: bool = False,
        colour_assignment: str = "independent",
        num_classes: int = 1000,
    ) -> VOneNet:
        return VOneNet(
            backend=backend,
            num_classes=num_classes,
            noise_mode=noise_mode,
            noise_scale=noise_scale,
            noise_level=noise_level,
            k_exc=k_exc,
            stride=stride,
            simple_channels=simple_channels,
            complex_channels=complex_channels,
            kernel_size=kernel_size,
            image_size=image_size,
            visual_degrees=visual_degrees,
            gabor_seed=gabor_seed,
            sf_corr=sf_corr,
            sf_max=sf_max,
            sf_min=sf_min,
            uniform_params=uniform_params,
            colour_assignment=colour_assignment,
        )

    return build


register_model("vonenet_resnet50", card=_resnet_card)(_builder("resnet50"))
register_model("vonenet_alexnet", card=_alexnet_card)(_builder("alexnet"))
register_model("vonenet_cornets", card=_cornets_card)(_builder("cornets"))
