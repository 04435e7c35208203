"""A tiny recurrent classifier (BatchNorm, dropout, two readouts) and a dataset subset, for fast tests."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.data.labeled import LabeledImages


class TinyRecurrent(nn.Module):
    def __init__(self, *, num_classes: int = 10, steps: int = 2, width: int = 16):
        super().__init__()
        self.steps = steps
        self.V1 = nn.Conv2d(3, width, 3, stride=2, padding=1)
        self.norm = nn.BatchNorm2d(width)
        self.lateral = nn.Conv2d(width, width, 3, padding=1)
        self.dropout = nn.Dropout(0.1)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.decoder = nn.Linear(16 * width, num_classes)

    def readouts(self, x: torch.Tensor) -> list[torch.Tensor]:
        drive = F.relu(self.norm(self.V1(x)))
        state, outputs = drive, []
        for t in range(self.steps):
            if t:
                state = F.relu(drive + self.lateral(state))
            outputs.append(self.decoder(self.dropout(self.pool(state).flatten(1))))
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readouts(x)[-1]


class Subset(LabeledImages):
    def __init__(self, dataset: LabeledImages, count: int):
        self.dataset = dataset
        self.targets = dataset.targets[:count]
        self.classes = dataset.classes

    def __getitem__(self, index):
        return self.dataset[index]
