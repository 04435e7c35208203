"""Small models for the adversarial tests, briefly trained on the embedded digits (16 px, "half" preset)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.data.digits import digits
from brainlike.layers.vone import VOneBlock

SIZE = 16
PRESET = "half"


class DigitNet(nn.Module):
    """Two strided convolutions and one linear readout per step (two steps: a stand-in recurrent model)."""

    def __init__(self, readout_steps: int = 1):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
        )
        self.heads = nn.ModuleList(nn.Linear(128, 10) for _ in range(readout_steps))

    def readouts(self, x):
        features = self.features(x)
        return [head(features) for head in self.heads]

    def forward(self, x):
        return self.readouts(x)[-1]


class NoisyDigitNet(nn.Module):
    """A small VOne block (neuronal noise on) and a linear readout: a stochastic model like a VOneNet."""

    def __init__(self):
        super().__init__()
        self.vone = VOneBlock(
            simple_channels=16, complex_channels=16, kernel_size=7, stride=2, image_size=SIZE, visual_degrees=2, k_exc=5
        )
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(32 * 16, 10))

    def forward(self, x):
        return self.head(self.vone(x))


def train(model: nn.Module, steps: int = 200, seed: int = 0) -> nn.Module:
    """Adam on the digits; on one thread, which is ten times faster for these tiny convolutions on a busy
    two-core machine than two threads competing."""
    torch.manual_seed(seed)
    data = digits("train", size=SIZE)
    x, y = data.images.float() / 255 * 2 - 1, torch.tensor(data.targets)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(steps):
            index = torch.randint(0, len(x), (128,))
            outputs = model.readouts(x[index]) if hasattr(model, "readouts") else [model(x[index])]
            loss = sum(F.cross_entropy(o, y[index]) for o in outputs)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval()


@pytest.mark.slow
def test_the_trained_models_classify_digits():
    val = digits("val", size=SIZE)
    x, y = val.images.float() / 255 * 2 - 1, torch.tensor(val.targets)
    model = train(DigitNet())
    with torch.no_grad():
        assert (model(x).argmax(1) == y).float().mean() > 0.85
