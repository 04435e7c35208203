"""Untargeted projected gradient descent (Madry et al. 2018) in [0, 1] pixel space.

Each step moves along the loss gradient, normalised for the norm (its sign for L-infinity; scaled to
unit L2 or L1 norm otherwise, as the VOneNet paper describes its L2 and L1 attacks), then maps the
perturbation back into the ball (clipping for L-infinity, rescaling for L2 and L1: the Euclidean
projection for L2, and for L1 the rescaling the adversarial-robustness-toolbox used for the paper) and
the image back into [0, 1]. Clipping to [0, 1] only shrinks each coordinate of the perturbation, so the
result stays inside the ball.

With `eot_samples` > 1 the gradient is summed over that many forward/backward passes, each with its own
draw of the model's noise: expectation over transformation (Athalye et al. 2018), needed to attack a
stochastic model honestly. A step costs `eot_samples` forward and backward passes plus a few
element-wise passes over the batch; nothing is synchronised with the device until the end.

The loop runs in the images' dtype (float32), whose rounding can leave a perturbation a few ulps
outside its ball; `enforce_budget` checks the final images in float64 and shrinks those few, so every
image returned is inside its budget and inside [0, 1] exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from brainlike.analysis.adversarial.budgets import Budget

LossFn = Callable[[torch.Tensor], torch.Tensor]  # pixels (B, C, H, W) in [0, 1] -> loss per image (B,)
_TINY = 1e-12
_REPAIRS = 12


def _per_image(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return values.view(-1, *([1] * (like.dim() - 1)))


def lp_norms(delta: torch.Tensor, norm: str) -> torch.Tensor:
    """The `norm` ("linf", "l2", "l1") of each image's perturbation."""
    flat = delta.flatten(1)
    if norm == "l2":
        return torch.linalg.vector_norm(flat, dim=1)
    if norm == "l1":
        return flat.abs().sum(dim=1)
    return flat.abs().amax(dim=1)


def perturbation_norms(x: torch.Tensor, adversarial: torch.Tensor, norm: str) -> torch.Tensor:
    """Exact (float64) norms of adversarial - x per image."""
    return lp_norms(adversarial.double() - x.double(), norm)


def inside_budget(x: torch.Tensor, adversarial: torch.Tensor, budget: Budget) -> torch.Tensor:
    """Per image: whether the perturbation is inside the ball and the image inside [0, 1] (exact)."""
    in_box = ((adversarial >= 0) & (adversarial <= 1)).flatten(1).all(dim=1)
    return in_box & (perturbation_norms(x, adversarial, budget.norm) <= budget.epsilon)


def enforce_budget(x: torch.Tensor, adversarial: torch.Tensor, budget: Budget) -> torch.Tensor:
    """`adversarial` with the few images that rounding left outside their ball shrunk into it."""
    adversarial = adversarial.clamp(0, 1)
    for attempt in range(_REPAIRS):
        norms = perturbation_norms(x, adversarial, budget.norm)
        outside = norms > budget.epsilon
        if not bool(outside.any()):
            return adversarial
        shrink = budget.epsilon / norms.clamp_min(_TINY) * (1 - 2.0 ** (2 * attempt - 24))
        delta = (adversarial.double() - x.double()) * _per_image(shrink, x)
        repaired = (x.double() + delta).clamp(0, 1).to(adversarial.dtype)
        adversarial = torch.where(_per_image(outside, x), repaired, adversarial)
    raise RuntimeError("could not bring the adversarial images inside their budget")  # unreachable in float32


def random_start(x: torch.Tensor, budget: Budget) -> torch.Tensor:
    """A random point of the ball (and of [0, 1]) around each image: uniform in the L-infinity cube; for
    L2 and L1 a random direction (Gaussian, Laplacian) at a uniformly drawn radius."""
    if budget.norm == "linf":
        delta = torch.empty_like(x).uniform_(-budget.epsilon, budget.epsilon)
    else:
        direction = torch.randn_like(x)
        if budget.norm == "l1":
            direction = torch.empty_like(x).exponential_().mul_(direction.sign())
        direction /= _per_image(lp_norms(direction, budget.norm).clamp_min(_TINY), x)
        radius = torch.rand(len(x), device=x.device, dtype=x.dtype) * budget.epsilon
        delta = direction * _per_image(radius, x)
    return (x + delta).clamp_(0, 1)


def _gradient(loss_fn: LossFn, point: torch.Tensor, samples: int) -> torch.Tensor:
    total = None
    for _ in range(samples):
        leaf = point.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(loss_fn(leaf).sum(), leaf)
        total = grad if total is None else total.add_(grad)
    return total


def _ascent(grad: torch.Tensor, norm: str) -> torch.Tensor:
    if norm == "linf":
        return grad.sign_()
    return grad.div_(_per_image(lp_norms(grad, norm).clamp_min(_TINY), grad))


def _into_ball(x, adversarial, budget: Budget, lower, upper) -> torch.Tensor:
    if budget.norm == "linf":
        return torch.clamp(adversarial, lower, upper)
    delta = adversarial - x
    factor = (budget.epsilon / lp_norms(delta, budget.norm).clamp_min(_TINY)).clamp_(max=1)
    return delta.mul_(_per_image(factor, delta)).add_(x).clamp_(0, 1)


def pgd(
    loss_fn: LossFn, x: torch.Tensor, budget: Budget, *, start: torch.Tensor | None = None, eot_samples: int = 1
) -> torch.Tensor:
    """Adversarial images for the batch `x` (pixels in [0, 1]) that ascend `loss_fn` within `budget`.

    loss_fn: pixels -> loss per image; its gradient is taken through whatever it calls (the model's
    normalisation included). start: the first iterate (default `x` itself; `random_start` for a
    restart). eot_samples: gradient samples per step for stochastic models.
    """
    x = x.detach()
    if budget.epsilon == 0:
        return x.clone()
    if eot_samples < 1:
        raise ValueError("eot_samples must be at least 1")
    lower = (x - budget.epsilon).clamp_(min=0) if budget.norm == "linf" else None
    upper = (x + budget.epsilon).clamp_(max=1) if budget.norm == "linf" else None
    adversarial = x.clone() if start is None else start.detach().clone()
    for _ in range(budget.steps):
        step = _ascent(_gradient(loss_fn, adversarial, eot_samples), budget.norm).mul_(budget.step_size)
        adversarial = _into_ball(x, adversarial.add_(step), budget, lower, upper)
    return enforce_budget(x, adversarial, budget)
