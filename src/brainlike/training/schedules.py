"""Learning-rate schedules of the published recipes, as functions of the training position.

`lr(epoch, step, steps_per_epoch)` gives the rate for the step about to run; `end_epoch(val_loss)`
lets a schedule react to the validation loss; `finished` says the run should stop (lr <= stop_lr).
"""

from __future__ import annotations

import math

import numpy as np

from brainlike.training.recipes import Recipe


class Schedule:
    def __init__(self, recipe: Recipe):
        self.base = recipe.lr
        self.stop_lr = recipe.stop_lr

    def lr(self, epoch: int, step: int, steps_per_epoch: int) -> float:
        return self.base

    def end_epoch(self, epoch: int, val_loss: float | None) -> None:
        pass

    def finished(self, epoch: int, steps_per_epoch: int) -> bool:
        """Whether the lr of the next epoch is at or below stop_lr."""
        return self.stop_lr is not None and self.lr(epoch + 1, 0, steps_per_epoch) <= self.stop_lr

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class StepSchedule(Schedule):
    """CORnet/VOneNet: lr0 * gamma ** floor(fractional epoch / step_size), the fractional epoch being
    (global step + 1) / steps per epoch, i.e. decayed per iteration."""

    def __init__(self, recipe: Recipe):
        super().__init__(recipe)
        self.step_size, self.gamma = recipe.step_size, recipe.gamma

    def lr(self, epoch, step, steps_per_epoch):
        fraction = (epoch * steps_per_epoch + step + 1) / steps_per_epoch
        return self.base * self.gamma ** math.floor(fraction / self.step_size)


class MultiStepSchedule(Schedule):
    """lr0 * gamma ** (number of milestones reached), per epoch."""

    def __init__(self, recipe: Recipe):
        super().__init__(recipe)
        self.milestones, self.gamma = sorted(recipe.milestones), recipe.gamma

    def lr(self, epoch, step, steps_per_epoch):
        return self.base * self.gamma ** sum(epoch >= m for m in self.milestones)


class WarmupPlateauFit(Schedule):
    """BLT-VS: linear warm-up from base*start_factor to base over `warmup_epochs` epochs, then the
    linear-fit plateau rule.

    After warm-up, the val losses of the last `fit_epochs` epochs are fitted with a least-squares
    line; the fitted change from the first to the last of them, in percent of the first, above
    -min_percent_change counts as a bad epoch. More than `patience` bad epochs in a row multiply the
    lr by `factor` (not below min_lr) and clear the history.
    """

    def __init__(self, recipe: Recipe):
        super().__init__(recipe)
        self.warmup = recipe.warmup_epochs
        self.start = recipe.warmup_start_factor
        self.fit_epochs = recipe.plateau_fit_epochs
        self.factor = recipe.plateau_factor
        self.min_change = recipe.plateau_min_percent_change
        self.patience = recipe.plateau_patience
        self.min_lr = recipe.min_lr
        self.current = recipe.lr
        self.history: list[float] = []
        self.bad_epochs = 0

    def lr(self, epoch, step, steps_per_epoch):
        if epoch < self.warmup:
            if self.warmup == 1:
                return self.base
            low = self.base * self.start
            return low + (self.base - low) * epoch / (self.warmup - 1)
        return self.current

    def end_epoch(self, epoch, val_loss):
        if epoch < self.warmup or val_loss is None:
            return
        self.history.append(float(val_loss))
        if len(self.history) < self.fit_epochs:
            return
        recent = np.asarray(self.history[-self.fit_epochs :])
        slope, intercept = np.polyfit(np.arange(self.fit_epochs), recent, 1)
        first, last = intercept, intercept + slope * (self.fit_epochs - 1)
        change = 100.0 * (last - first) / abs(first)
        self.bad_epochs = self.bad_epochs + 1 if change > -self.min_change else 0
        if self.bad_epochs > self.patience:
            self.current = max(self.current * self.factor, self.min_lr)
            self.history, self.bad_epochs = [], 0

    def state_dict(self):
        return {"current": self.current, "history": list(self.history), "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state):
        self.current, self.history, self.bad_epochs = state["current"], list(state["history"]), state["bad_epochs"]


SCHEDULES = {
    "constant": Schedule,
    "step": StepSchedule,
    "multistep": MultiStepSchedule,
    "warmup_plateau_fit": WarmupPlateauFit,
}


def make_schedule(recipe: Recipe) -> Schedule:
    return SCHEDULES[recipe.schedule](recipe)
