"""The model as the attacker sees it: [0, 1] pixels in, logits per readout step out, through the model's
own normalisation; the losses the attack ascends, the accuracy it is scored by, and whether the model
is stochastic (a VOne block with noise on gives different logits on every call)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike.precision import autocast
from brainlike.runtime.readouts import Readouts
from brainlike.transforms import normalize

OBJECTIVES = ("last", "mean")


class StochasticModelWarning(UserWarning):
    """A stochastic model attacked without expectation over its noise: robustness is overstated."""


class PixelReadouts(nn.Module):
    """pixels (B, 3, H, W) in [0, 1] -> tuple of float32 logits, one per readout step."""

    def __init__(self, model: nn.Module, preprocessing: str, precision: str = "fp32"):
        super().__init__()
        self.readouts, self.preprocessing, self.precision = Readouts(model), preprocessing, precision

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, ...]:
        with autocast(self.precision, pixels.device.type):
            outputs = self.readouts(normalize(pixels, self.preprocessing))
        return tuple(o.float() for o in outputs)


def objective_loss(model: PixelReadouts, labels: torch.Tensor, objective: str):
    """pixels -> cross-entropy per image of the last readout ("last") or averaged over all ("mean")."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}")

    def loss(pixels: torch.Tensor) -> torch.Tensor:
        outputs = model(pixels)
        if objective == "last":
            return F.cross_entropy(outputs[-1], labels, reduction="none")
        return torch.stack([F.cross_entropy(o, labels, reduction="none") for o in outputs]).mean(dim=0)

    return loss


@torch.no_grad()
def correct_fraction(model: PixelReadouts, pixels: torch.Tensor, labels: torch.Tensor, evaluations: int = 1):
    """(B, readout steps): the fraction of `evaluations` forward passes that classify each image right."""
    total = None
    for _ in range(evaluations):
        hits = torch.stack([o.argmax(dim=1) == labels for o in model(pixels)], dim=1).float()
        total = hits if total is None else total + hits
    return total / evaluations


def objective_score(scores: torch.Tensor, objective: str) -> torch.Tensor:
    """Per image, the accuracy the attack on `objective` tries to lower: last step, or mean over steps."""
    return scores[:, -1] if objective == "last" else scores.mean(dim=1)


@torch.no_grad()
def is_stochastic(model: PixelReadouts, pixels: torch.Tensor) -> bool:
    """Whether two passes over the same pixels give different logits (beyond float noise)."""
    first, second = model(pixels), model(pixels)
    return any(not torch.allclose(a, b, rtol=1e-4, atol=1e-5) for a, b in zip(first, second))
