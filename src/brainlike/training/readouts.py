"""A model seen as a function from images to its list of readouts (logits per readout step)."""

from __future__ import annotations

import torch
import torch.nn as nn


class Readouts(nn.Module):
    """forward(x) -> tuple of logits, one per readout step (one for feed-forward models).

    The trainer wraps this (not the bare model) in DistributedDataParallel, so the gradient
    synchronisation also covers losses taken over `readouts(x)`.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if hasattr(self.model, "readouts"):
            return tuple(self.model.readouts(x))
        return (self.model(x),)
