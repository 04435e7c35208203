"""Repeated presentations: a stochastic model sees the stimuli `number_of_trials` times and answers with the
mean, as Brain-Score's activation extractors average over trials; a deterministic model runs once."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch.nn as nn

from brainlike.errors import BrainlikeError


def noisy_modules(model: nn.Module) -> list[str]:
    """Module paths whose output is stochastic at inference: a VOne block (or any module with the same
    flags) with noise on and no fixed noise seed. Other brainlike modules are deterministic in eval mode."""
    return [
        name or type(model).__name__
        for name, module in model.named_modules()
        if getattr(module, "noise_mode", None) is not None and getattr(module, "noise_seed", None) is None
    ]


def is_stochastic(model: nn.Module) -> bool:
    """A `stochastic` attribute on the model or its card wins; otherwise whether any module is noisy."""
    for owner in (model, getattr(model, "card", None)):
        flag = getattr(owner, "stochastic", None)
        if isinstance(flag, bool):
            return flag
    return bool(noisy_modules(model))


def check_trials(number_of_trials) -> int:
    if isinstance(number_of_trials, bool) or not isinstance(number_of_trials, (int, np.integer)):
        raise BrainlikeError(f"number_of_trials must be a whole number, not {number_of_trials!r}")
    if number_of_trials < 1:
        raise BrainlikeError(f"number_of_trials must be at least 1, not {number_of_trials}")
    return int(number_of_trials)


def mean_over_trials(run: Callable[[], np.ndarray], trials: int) -> np.ndarray:
    """The mean of `trials` calls of `run` (each one full pass over all the stimuli, in order), accumulated
    in float64 so that the mean does not depend on how many trials were summed in float32."""
    total = np.asarray(run(), dtype=np.float64)
    for _ in range(trials - 1):
        total += run()
    return (total / trials).astype(np.float32)
