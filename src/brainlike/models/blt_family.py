"""The B, BL, BT and BLT networks of Spoerer, McClure & Kriegeskorte (2017) and Spoerer et al. (2020).

A stack of convolutional layers, each named after a cortical area, with bottom-up (B) connections
and optionally lateral (L: a layer's own output at the previous step) and top-down (T: the
previous output of the layer above) recurrence. The three drives are summed, normalised (a BatchNorm
per step by default, as in Spoerer et al. 2020) and rectified. A layer's bottom-up input is the
2x2-max-pooled output of the layer below at the same step ("sequential" unrolling, as in the
authors' `rcnn-sat` code); layer 1's drive from the image is computed once. Every step is read out
through global average pooling and one shared linear layer; with `cumulative_readout` the logits of
step t are the sum of those of steps 0..t.

The registered variants are small (2-4 layers) so that they train on a CPU in minutes; their layer
sizes are this package's choice, not a published configuration.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.errors import BrainlikeError
from brainlike.layers.recurrent import RecurrentConvLayer
from brainlike.registry import Area, ModelCard, register_model, uniform_bins

CITATION = (
    "Spoerer CJ, McClure P, Kriegeskorte N (2017). Recurrent convolutional neural networks: a better model "
    "of biological object recognition. Front. Psychol. 8:1551. Spoerer CJ, Kietzmann TC, Mehrer J, "
    "Charest I, Kriegeskorte N (2020). Recurrent neural networks can explain flexible trading of speed and "
    "accuracy in biological vision. PLoS Comput Biol 16(10):e1008215."
)
CONNECTIONS = ("B", "BL", "BT", "BLT")
AREA_NAMES = {
    1: ("V1",),
    2: ("V1", "V4"),
    3: ("V1", "V4", "IT"),
    4: ("V1", "V2", "V4", "IT"),
    5: ("V1", "V2", "V3", "V4", "IT"),
    6: ("V1", "V2", "V3", "V4", "PIT", "AIT"),
    7: ("V1", "V2", "V3", "V4", "PIT", "CIT", "AIT"),
}


class BLTNet(nn.Module):
    """A B/BL/BT/BLT network.

    connections: "B", "BL", "BT" or "BLT". channels / kernel_sizes: one entry per layer. pooling:
    max-pool size between layers. input_stride: stride of the first layer's bottom-up conv.
    timesteps: unrolled steps (1 suffices for "B"). area_names: the layers' names (default: cortical
    areas by depth). norm: "batch" (per step) or "layer".
    """

    def __init__(
        self,
        *,
        connections: str = "BLT",
        channels=(32, 64),
        kernel_sizes=(3, 3),
        pooling: int = 2,
        input_stride: int = 1,
        timesteps: int = 4,
        num_classes: int = 10,
        in_channels: int = 3,
        cumulative_readout: bool = False,
        norm: str = "batch",
        area_names=None,
    ):
        super().__init__()
        if connections not in CONNECTIONS:
            raise BrainlikeError(f"connections must be one of {', '.join(CONNECTIONS)}, not {connections!r}")
        if len(channels) != len(kernel_sizes) or not channels:
            raise BrainlikeError("channels and kernel_sizes need one entry per layer")
        if timesteps < 1:
            raise BrainlikeError(f"timesteps must be at least 1, not {timesteps}")
        names = tuple(area_names) if area_names else AREA_NAMES.get(len(channels))
        if names is None or len(names) != len(channels):
            raise BrainlikeError(f"give area_names for a {len(channels)}-layer network")
        self.area_names = names
        self.connections = connections
        self.timesteps = timesteps
        self.pooling = pooling
        self.cumulative_readout = cumulative_readout
        for n, name in enumerate(names):
            top_down = channels[n + 1] if "T" in connections and n + 1 < len(channels) else None
            self.add_module(
                name,
                RecurrentConvLayer(
                    in_channels=in_channels if n == 0 else channels[n - 1],
                    channels=channels[n],
                    kernel_size=kernel_sizes[n],
                    stride=input_stride if n == 0 else 1,
                    lateral="L" in connections,
                    top_down_channels=top_down,
                    top_down_stride=pooling,
                    steps=timesteps,
                    norm=norm,
                ),
            )
        self.readout = nn.Linear(channels[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readouts(x)[-1]

    def readouts(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Logits at every step (summed over steps 0..t with `cumulative_readout`)."""
        if x.ndim != 4:
            raise BrainlikeError(f"expected images of shape (B, C, H, W), got {tuple(x.shape)}")
        layers = [getattr(self, name) for name in self.area_names]
        image_drive = layers[0].bottom_up(x)
        previous: list = [None] * len(layers)
        logits = []
        for t in range(self.timesteps):
            current = []
            for n, layer in enumerate(layers):
                drive = image_drive if n == 0 else layer.bottom_up(F.max_pool2d(current[-1], self.pooling))
                above = previous[n + 1] if n + 1 < len(layers) else None
                current.append(layer(drive, own=previous[n], above=above, step=t))
            previous = current
            out = self.readout(current[-1].mean(dim=(2, 3)))
            logits.append(out + logits[-1] if self.cumulative_readout and logits else out)
        return logits


# ------------------------------------------------------------------------------------------- variants

# input px: (channels, kernel sizes, first-layer stride, classes, label set)
SIZES = {
    32: ((32, 64), (3, 3), 1, 10, None),
    64: ((16, 32, 64), (5, 3, 3), 1, 200, None),
    128: ((16, 32, 64, 128), (5, 3, 3, 3), 2, 565, "ecoset"),
}
RECURRENT_STEPS = 4
# Sequential unrolling reaches every layer at step 0; step 0 stands for each area's feed-forward
# latency (50 ms for the first layer, 10 ms more per layer) and each further step for one 25 ms
# recurrent cycle.
_START_MS, _LEVEL_MS, _STEP_MS = 50.0, 10.0, 25.0
# Brain-Score region -> area: ours (no map is published for this family). Each layer is named after the area
# it stands for; of six layers the top one (AIT) answers IT.
_REGIONS = {"V1": "V1", "V2": "V2", "V4": "V4", "IT": "IT", "AIT": "IT"}


def family_card(
    connections: str, size: int, *, timesteps: int | None = None, num_classes: int | None = None, **_
) -> ModelCard:
    channels, _kernels, _stride, classes, labels = SIZES[size]
    steps = timesteps or (1 if connections == "B" else RECURRENT_STEPS)
    names = AREA_NAMES[len(channels)]
    areas = tuple(
        Area(
            name,
            {"output": f"{name}.output"},
            uniform_bins(_START_MS + _LEVEL_MS * n, _STEP_MS, steps),
            region=_REGIONS.get(name),
        )
        for n, name in enumerate(names)
    )
    return ModelCard(
        name=f"{connections.lower()}_net_{size}",
        family="blt_family",
        areas=areas,
        input_size=size,
        visual_degrees=5,
        num_classes=num_classes or classes,
        preprocessing="minus_one_one",
        citation=CITATION,
        readout_steps=steps,
        labels=labels if (num_classes or classes) == classes else None,
        description=f"{connections} network (Spoerer et al.), {len(channels)} layers for {size} px inputs",
        notes=(
            f"{steps} step(s), sequential unrolling, readout at every step; layer sizes are brainlike's "
            f"small CPU-trainable choice, not a published configuration",
            "visual_degrees=5 is nominal: these models are not fitted to a field of view",
        ),
    )


def _register(connections: str, size: int) -> None:
    channels, kernels, stride, classes, _ = SIZES[size]
    default_steps = 1 if connections == "B" else RECURRENT_STEPS
    name = f"{connections.lower()}_net_{size}"

    def card(**config) -> ModelCard:
        return family_card(connections, size, **config)

    def build(
        *,
        timesteps: int = default_steps,
        num_classes: int = classes,
        cumulative_readout: bool = False,
        norm: str = "batch",
    ) -> BLTNet:
        return BLTNet(
            connections=connections,
            channels=channels,
            kernel_sizes=kernels,
            input_stride=stride,
            timesteps=timesteps,
            num_classes=num_classes,
            cumulative_readout=cumulative_readout,
            norm=norm,
        )

    build.__name__ = name
    register_model(name, card=card)(build)


for _size in SIZES:
    for _connections in CONNECTIONS:
        _register(_connections, _size)
