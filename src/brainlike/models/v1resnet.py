"""V1-constrained ResNet-50s (Pogoncheff, Granley & Beyeler 2023) for 64 px inputs spanning 8 degrees.

A torchvision ResNet-50 (v1.5) whose stem and layer1 carry up to four biological components:
centre-surround DoG convolutions (layer1 blocks 0 and 1, after the 3x3 conv), a locally connected
3x3 layer (layer1 block 2's conv2), tuned divisive normalization after every layer1 block, and
cortical magnification (polar pooling in place of the stem's max-pool). Layer1's output is V1.

Variants a-g are the paper's composites; the components are passed to the constructor instead of
being set on shared class attributes as in the original, so building one variant never changes
another. Every composite keeps the polar-pooling buffers (`lpp.*`) even when it uses the max-pool,
as the original does, so state_dict keys match. `resnet50_64px` is the plain baseline at 64 px.
Variant a is the model packaged for Brain-Score (`resnet50_primary_visual_cortex`); its weights
imply `radius_pad=True` (the packaging's extra padding of the polar map).
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torchvision.models.resnet import Bottleneck

from brainlike.layers.center_surround import ConvThenDoG
from brainlike.layers.local import LocallyConnected2d
from brainlike.layers.magnification import PolarPooling
from brainlike.layers.normalization import TunedNormalization
from brainlike.registry import BRAINSCORE_LATENCIES_MS, Area, ModelCard, register_model, uniform_bins
from brainlike.weights import WeightSpec

CITATION = (
    "Pogoncheff G, Granley J, Beyeler M (2023). Explaining V1 properties with a biologically constrained "
    "deep learning architecture. NeurIPS 36. arXiv:2305.11275"
)
INPUT_SIZE = 64
LAYER1_SIZE = 16
VARIANTS = {  # letter: (DoG, locally connected, tuned normalization, polar magnification)
    "a": (True, True, True, True),
    "b": (False, True, True, True),
    "c": (True, True, False, True),
    "d": (True, True, True, False),
    "e": (False, False, True, True),
    "f": (False, True, False, True),
    "g": (False, True, True, False),
}
_BRAINSCORE_URL = (
    "https://brainscore-storage.s3.us-east-2.amazonaws.com/brainscore-vision/models/"
    "resnet50_primary_visual_cortex/resnet50_primary_visual_cortex.pt"
)


class V1Bottleneck(nn.Module):
    """A ResNet bottleneck whose 3x3 conv can be replaced and whose output can be normalized (`dn`)."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        *,
        conv2: nn.Module | None = None,
        dn: nn.Module | None = None,
        downsample: nn.Module | None = None,
    ):
        super().__init__()
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv2 if conv2 is not None else nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.dn = dn if dn is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.dn(self.relu(y + identity))


def _downsample(inplanes: int, outplanes: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inplanes, outplanes, 1, stride=stride, bias=False), nn.BatchNorm2d(outplanes))


def resnet_stage(inplanes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    """A torchvision ResNet stage of Bottlenecks (v1.5: the stride sits on the 3x3 conv)."""
    out = planes * Bottleneck.expansion
    downsample = _downsample(inplanes, out, stride) if stride != 1 or inplanes != out else None
    layers = [Bottleneck(inplanes, planes, stride, downsample)]
    layers += [Bottleneck(out, planes) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


def init_resnet(model: nn.Module) -> None:
    """torchvision's ResNet init: fan-out He normal for every Conv2d, unit BatchNorm."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class V1ResNet50(nn.Module):
    """ResNet-50 with optional V1 components in the stem and layer1; areas V1 (layer1) to IT (layer4).

    composite=False gives the plain torchvision ResNet-50 (no `lpp` buffers); otherwise layer1 is
    built from `V1Bottleneck`s with the chosen components.
    """

    def __init__(
        self,
        *,
        dog: bool = False,
        local: bool = False,
        tuned_norm: bool = False,
        polar: bool = False,
        composite: bool = True,
        radius_pad: bool = False,
        polar_antialias: bool = True,
        dog_form: str = "as_coded",
        norm_distance: str = "opponent_ring",
        lc_init: str = "normal",
        num_classes: int = 1000,
    ):
        super().__init__()
        if not composite and (dog or local or tuned_norm or polar):
            raise ValueError("the V1 components need composite=True")
        self.polar = polar
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        if composite:
            self.lpp = PolarPooling(
                input_size=2 * LAYER1_SIZE, output_size=LAYER1_SIZE, radius_pad=radius_pad, antialias=polar_antialias
            )
            self.layer1 = self._v1_stage(dog, local, tuned_norm, dog_form, norm_distance, lc_init)
        else:
            self.layer1 = resnet_stage(64, 64, 3, 1)
        self.layer2 = resnet_stage(256, 128, 4, 2)
        self.layer3 = resnet_stage(512, 256, 6, 2)
        self.layer4 = resnet_stage(1024, 512, 3, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, num_classes)
        self.V1, self.V2, self.V4, self.IT = nn.Identity(), nn.Identity(), nn.Identity(), nn.Identity()
        # torchvision's init, which the original keeps: it reaches nn.Conv2d and BatchNorm only, so
        # the DoG, locally connected and normalization parameters keep their own initialisation.
        init_resnet(self)

    @staticmethod
    def _v1_stage(dog, local, tuned_norm, dog_form, norm_distance, lc_init) -> nn.Sequential:
        def dn():
            return TunedNormalization(256, distance=norm_distance) if tuned_norm else None

        def conv_dog():
            return ConvThenDoG(64, form=dog_form) if dog else None

        lc = (
            LocallyConnected2d(64, 64, output_size=LAYER1_SIZE, kernel_size=3, padding=1, init=lc_init)
            if local
            else None
        )
        return nn.Sequential(
            V1Bottleneck(64, 64, conv2=conv_dog(), dn=dn(), downsample=_downsample(64, 256, 1)),
            V1Bottleneck(256, 64, conv2=conv_dog(), dn=dn()),
            V1Bottleneck(256, 64, conv2=lc, dn=dn()),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.lpp(x) if self.polar else self.maxpool(x)
        x = self.V1(self.layer1(x))
        x = self.V2(self.layer2(x))
        x = self.V4(self.layer3(x))
        x = self.IT(self.layer4(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))

    def readouts(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self(x)]


# ------------------------------------------------------------------------------------------- cards


def _areas() -> tuple[Area, ...]:
    # Brain-Score commits every region to layer1 for the packaged model; here only V1 is committed.
    return tuple(
        Area(a, {"output": a}, uniform_bins(start, 100, 1), region="V1" if a == "V1" else None)
        for a, start in BRAINSCORE_LATENCIES_MS.items()
    )


def _card(description: str, weights=None, notes=()) -> ModelCard:
    return ModelCard(
        name="",
        family="v1resnet",
        areas=_areas(),
        input_size=INPUT_SIZE,
        visual_degrees=8,
        num_classes=1000,
        preprocessing="half",
        citation=CITATION,
        weights=weights or {},
        description=description,
        notes=("64 px over 8 degrees is 8 px/deg: gratings at 4 cpd or more alias.", *notes),
    )


def _describe(letter: str) -> str:
    dog, local, tuned, polar = VARIANTS[letter]
    parts = [
        name
        for name, on in (
            ("centre-surround DoG", dog),
            ("locally connected layer1", local),
            ("tuned normalization", tuned),
            ("polar cortical magnification", polar),
        )
        if on
    ]
    return f"composite ({letter}): " + ", ".join(parts)


_BRAINSCORE_WEIGHTS = {
    "brainscore": WeightSpec(
        url=_BRAINSCORE_URL,
        format="torch",
        config={"radius_pad": True, "polar_antialias": True},
        description="ImageNet, 64 px; as packaged for Brain-Score (resnet50_primary_visual_cortex), plain state_dict",
        # Published by Brain-Score's plugin (brain-score/vision, MIT) from the model of Pogoncheff et al.
        # (bionicvisionlab/2023-Pogoncheff-Explaining-V1-Properties, BSD-2-Clause); neither states the licence
        # of the weight file itself.
        licence="unknown",
        source="https://github.com/brain-score/vision/tree/master/brainscore_vision/models/resnet50_primary_visual_cortex",
        citation=CITATION,
        parameters=35_156_346,  # also the plugin's metadata.yml total_parameter_count
    ),
}


def _register_variant(letter: str) -> None:
    dog, local, tuned, polar = VARIANTS[letter]
    weights = _BRAINSCORE_WEIGHTS if letter == "a" else None
    notes = (
        (
            "The Brain-Score packaging reflect-pads the polar map's radius axis too (radius_pad=True, "
            "implied by its weights); the paper code does not.",
        )
        if letter == "a"
        else ()
    )

    def build(
        *,
        radius_pad: bool = False,
        polar_antialias: bool = True,
        dog_form: str = "as_coded",
        norm_distance: str = "opponent_ring",
        lc_init: str = "normal",
        num_classes: int = 1000,
    ) -> V1ResNet50:
        return V1ResNet50(
            dog=dog,
            local=local,
            tuned_norm=tuned,
            polar=polar,
            radius_pad=radius_pad,
            polar_antialias=polar_antialias,
            dog_form=dog_form,
            norm_distance=norm_distance,
            lc_init=lc_init,
            num_classes=num_classes,
        )

    register_model(f"v1resnet50_{letter}", card=_card(_describe(letter), weights, notes))(build)


for _letter in VARIANTS:
    _register_variant(_letter)


@register_model("resnet50_64px", card=_card("plain ResNet-50 at 64 px, the baseline of the V1 ResNets"))
def resnet50_64px(*, num_classes: int = 1000) -> V1ResNet50:
    return V1ResNet50(composite=False, num_classes=num_classes)
