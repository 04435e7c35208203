"""One batch under every budget: the worst adversarial image found per image, objective and budget.

For each image the attack keeps one candidate per (objective, budget), scored by the accuracy the
objective cares about (the last readout step, or the mean over steps), averaged over noisy evaluations
for stochastic models. The clean image is the first candidate, so robust accuracy never exceeds clean
accuracy. Within a norm the budgets are attacked from the smallest up, and a larger budget keeps the
smaller one's candidate (it lies inside the larger ball too), so robust accuracy never rises with the
budget; images whose every evaluation is already wrong are not attacked again, which also saves the
work. Each restart (the first from the clean image, later ones from random points of the ball) replaces
the candidate where it scores no higher, so the kept image is the attack's own output wherever it ran
(an example to look at even where it did not fool the model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from brainlike.analysis.adversarial.budgets import NORMS, Budget
from brainlike.analysis.adversarial.pgd import pgd, random_start
from brainlike.analysis.adversarial.readouts import (
    PixelReadouts,
    correct_fraction,
    objective_loss,
    objective_score,
)


@dataclass
class BatchOutcome:
    """Scores (images, readout steps) for the clean batch and per (objective, budget key); with
    `keep_images`, the chosen adversarial images per (objective, budget key)."""

    clean: torch.Tensor
    robust: dict[tuple[str, str], torch.Tensor] = field(default_factory=dict)
    images: dict[tuple[str, str], torch.Tensor] = field(default_factory=dict)


@dataclass(frozen=True)
class AttackSettings:
    restarts: int = 0
    eot_samples: int = 1
    noise_evaluations: int = 1


def _attack_one_budget(model, pixels, labels, budget: Budget, objective: str, best, settings: AttackSettings):
    """Lower `best` = [candidate images, their scores] in place with PGD restarts under `budget`."""
    images, scores = best
    for restart in range(settings.restarts + 1):
        alive = torch.nonzero(objective_score(scores, objective) > 0).squeeze(1)
        if budget.epsilon == 0 or len(alive) == 0:
            return
        x, y = pixels[alive], labels[alive]
        start = None if restart == 0 else random_start(x, budget)
        adversarial = pgd(objective_loss(model, y, objective), x, budget, start=start, eot_samples=settings.eot_samples)
        found = correct_fraction(model, adversarial, y, settings.noise_evaluations)
        better = objective_score(found, objective) <= objective_score(scores[alive], objective)
        images[alive[better]] = adversarial[better]
        scores[alive[better]] = found[better]


def attack_batch(
    model: PixelReadouts,
    pixels: torch.Tensor,
    labels: torch.Tensor,
    budgets: Sequence[Budget],
    *,
    objectives: Sequence[str],
    settings: AttackSettings,
    keep_images: bool = False,
) -> BatchOutcome:
    """Clean and robust scores of one batch (pixels in [0, 1]) for every objective and budget."""
    outcome = BatchOutcome(clean=correct_fraction(model, pixels, labels, settings.noise_evaluations))
    for objective in objectives:
        for norm in NORMS:
            ladder = sorted((b for b in budgets if b.norm == norm), key=lambda b: b.epsilon)
            if not ladder:
                continue
            best = [pixels.clone(), outcome.clean.clone()]
            for budget in ladder:
                _attack_one_budget(model, pixels, labels, budget, objective, best, settings)
                outcome.robust[objective, budget.key] = best[1].clone()
                if keep_images:
                    outcome.images[objective, budget.key] = best[0].clone()
    return outcome
