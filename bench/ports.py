"""Straightforward ports of the original CORnet forward passes, as baselines for bench/forward.py.

They follow the originals' behaviour literally (CORnet-S mutates conv2's stride during forward;
CORnet-R/RT build a zero drive of hard-coded size at t=0 and run conv1/GroupNorm on it), and share
brainlike's state_dict keys so both can be run with the same weights. Not part of the package.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from brainlike.models.cornet import CORblockR, CORblockS, CORnetR, CORnetS


class PortBlockS(CORblockS):
    def forward(self, inp):
        x = self.conv_input(inp)
        for t in range(self.times):
            if t == 0:
                skip = self.norm_skip(self.skip(x))
                self.conv2.stride = (2, 2)
            else:
                skip = x
                self.conv2.stride = (1, 1)
            x = self.conv1(x)
            x = getattr(self, f"norm1_{t}")(x)
            x = self.nonlin1(x)
            x = self.conv2(x)
            x = getattr(self, f"norm2_{t}")(x)
            x = self.nonlin2(x)
            x = self.conv3(x)
            x = getattr(self, f"norm3_{t}")(x)
            x += skip
            x = self.nonlin3(x)
            x = self.output(x)
        return x


class PortCORnetS(CORnetS):
    def __init__(self):
        super().__init__()
        for name, (cin, cout, times) in {"V2": (64, 128, 2), "V4": (128, 256, 4), "IT": (256, 512, 2)}.items():
            setattr(self, name, PortBlockS(cin, cout, times=times))


class PortBlockR(CORblockR):
    def __init__(self, *args, out_shape: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.out_shape = out_shape

    def forward(self, inp, state, batch_size):
        if inp is None:
            # the original moves its zero input to the GPU when the weights are there
            x = torch.zeros(
                [batch_size, self.conv1.out_channels, self.out_shape, self.out_shape], device=self.conv1.weight.device
            )
        else:
            x = self.nonlin_input(self.norm_input(self.conv_input(inp)))
        if state is None:
            state = 0
        x = self.output(self.nonlin1(self.norm1(self.conv1(x + state))))
        return x, x


class PortCORnetR(CORnetR):
    def __init__(self, *, unroll: str):
        super().__init__(unroll=unroll)
        self.V1 = PortBlockR(3, 64, kernel_size=7, stride=4, out_shape=56)
        self.V2 = PortBlockR(64, 128, stride=2, out_shape=28)
        self.V4 = PortBlockR(128, 256, stride=2, out_shape=14)
        self.IT = PortBlockR(256, 512, stride=2, out_shape=7)

    def forward(self, inp):
        names = ["V1", "V2", "V4", "IT"]
        outputs, states = {"inp": inp}, {}
        for name in names:
            source = inp if name == "V1" else None
            outputs[name], states[name] = getattr(self, name)(source, None, len(inp))
        previous = ["inp"] + names[:-1]
        for _ in range(1, self.times):
            new = {"inp": inp}
            for name, below in zip(names, previous):
                source = outputs[below] if self.unroll == "biological" else (new[below] if below != "inp" else inp)
                new[name], states[name] = getattr(self, name)(source, states[name], len(inp))
            outputs = new
        return self.decoder(outputs["IT"])


class PortBlockZ(nn.Module):
    def __init__(self, inputs: int, outputs: int, kernel: int, stride: int):
        super().__init__()
        self.conv = nn.Conv2d(inputs, outputs, kernel, stride=stride, padding=kernel // 2)
        self.nonlin = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.output = nn.Identity()

    def forward(self, x):
        return self.output(self.pool(self.nonlin(self.conv(x))))


class PortDecoder(nn.Module):
    def __init__(self, inputs: int, classes: int):
        super().__init__()
        self.avgpool, self.flatten = nn.AdaptiveAvgPool2d(1), nn.Flatten()
        self.linear, self.output = nn.Linear(inputs, classes), nn.Identity()

    def forward(self, x):
        return self.output(self.linear(self.flatten(self.avgpool(x))))


class PortCORnetZ(nn.Module):
    """CORnet-Z as the original writes it: four conv-ReLU-maxpool blocks and a linear decoder, plain torch."""

    def __init__(self):
        super().__init__()
        self.V1 = PortBlockZ(3, 64, 7, 2)
        self.V2, self.V4, self.IT = PortBlockZ(64, 128, 3, 1), PortBlockZ(128, 256, 3, 1), PortBlockZ(256, 512, 3, 1)
        self.decoder = PortDecoder(512, 1000)

    def forward(self, x):
        return self.decoder(self.IT(self.V4(self.V2(self.V1(x)))))


def port_of(name: str) -> nn.Module:
    return {
        "cornet_z": PortCORnetZ,
        "cornet_s": PortCORnetS,
        "cornet_r": lambda: PortCORnetR(unroll="sequential"),
        "cornet_rt": lambda: PortCORnetR(unroll="biological"),
    }[name]()
