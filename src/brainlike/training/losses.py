"""Loss over readout steps, class weights, and gradient clipping."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


def inverse_frequency_weights(targets: Sequence[int], num_classes: int) -> torch.Tensor:
    """w_c = N / (K n_c), normalised to sum to 1 (BLT-VS); classes absent from the data get 0."""
    counts = torch.bincount(torch.as_tensor(list(targets)), minlength=num_classes).double()
    weights = torch.where(counts > 0, counts.sum() / (num_classes * counts.clamp(min=1)), torch.zeros(()))
    return (weights / weights.sum()).float()


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


@torch.no_grad()
def clip_adaptive(parameters, factor: float, eps: float = 1e-3) -> None:
    """BLT-VS clipping, per parameter tensor: if |g| > factor (|w| + eps), g <- g * factor (|w| + eps) / (|g| + eps)."""
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return
    grads = [p.grad for p in params]
    weight_norms = torch._foreach_norm([p.detach() for p in params])
    grad_norms = torch._foreach_norm(grads)
    for grad, w, g in zip(grads, weight_norms, grad_norms):
        limit = factor * (w + eps)
        scale = torch.where(g > limit, limit / (g + eps), torch.ones_like(g))
        grad.mul_(scale.to(grad.dtype))
