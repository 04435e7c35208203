"""Top-1 / top-5 accuracy per readout step, accumulated over batches (and processes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch


def correct_counts(readouts: Sequence[torch.Tensor], target: torch.Tensor, ks=(1, 5)) -> torch.Tensor:
    """(steps, len(ks)) counts of items whose label is among the top-k logits, per readout step."""
    counts = torch.zeros(len(readouts), len(ks), dtype=torch.float64, device=target.device)
    for t, logits in enumerate(readouts):
        k_max = min(max(ks), logits.shape[1])
        hits = logits.topk(k_max, dim=1).indices == target[:, None]
        for j, k in enumerate(ks):
            counts[t, j] = hits[:, : min(k, k_max)].any(dim=1).sum()
    return counts


@dataclass
class Accuracy:
    """Running sums: loss (item-weighted), per-step top-1/top-5 hits and the number of items."""

    loss_sum: float = 0.0
    items: int = 0
    hits: torch.Tensor | None = None

    def update(self, loss: float, readouts: Sequence[torch.Tensor], target: torch.Tensor) -> None:
        counts = correct_counts([r.detach() for r in readouts], target).cpu()
        self.hits = counts if self.hits is None else self.hits + counts
        self.loss_sum += loss * len(target)
        self.items += len(target)

    def add(self, hits: torch.Tensor, loss_sum: float, items: int) -> None:
        self.hits = hits if self.hits is None else self.hits + hits
        self.loss_sum += loss_sum
        self.items += items

    @property
    def loss(self) -> float:
        return self.loss_sum / max(self.items, 1)

    def top(self, k_index: int) -> list[float]:
        if self.hits is None:
            return []
        return (self.hits[:, k_index] / max(self.items, 1)).tolist()

    @property
    def top1(self) -> list[float]:
        return self.top(0)

    @property
    def top5(self) -> list[float]:
        return self.top(1)
