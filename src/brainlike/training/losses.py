"""Class weights and gradient clipping of the published recipes (the loss itself: runtime.readouts)."""

from __future__ import annotations

from typing import Sequence

import torch


def inverse_frequency_weights(targets: Sequence[int], num_classes: int) -> torch.Tensor:
    """w_c = N / (K n_c), normalised to sum to 1 (BLT-VS); classes absent from the data get 0."""
    counts = torch.bincount(torch.as_tensor(list(targets)), minlength=num_classes).double()
    weights = torch.where(counts > 0, counts.sum() / (num_classes * counts.clamp(min=1)), torch.zeros(()))
    return (weights / weights.sum()).float()


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
