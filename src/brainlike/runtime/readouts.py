"""A model seen as a function from images to its list of readouts (logits per readout step), and the
loss over them."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


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


class ReadoutLoss(nn.Module):
    """Cross-entropy (optional label smoothing and class weights) averaged over the given readouts."""

    def __init__(self, *, label_smoothing: float = 0.0, class_weights: torch.Tensor | None = None):
        super().__init__()
        self.label_smoothing = label_smoothing
        self.register_buffer("class_weights", class_weights, persistent=False)

    def forward(self, readouts: Sequence[torch.Tensor], target: torch.Tensor) -> torch.Tensor:
        losses = [
            F.cross_entropy(logits.float(), target, weight=self.class_weights, label_smoothing=self.label_smoothing)
            for logits in readouts
        ]
        return torch.stack(losses).mean()
