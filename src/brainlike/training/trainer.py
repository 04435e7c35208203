"""The trainer: train/val loops with per-step accuracy, checkpoints, exact resume and DDP.

A run's folder holds `latest.pt` (everything needed to continue: model, optimiser, schedule, loss
scaler, sampler position, RNG states), `epoch_NNN.pt` when the recipe keeps them, `log.csv`,
`tensorboard/`, `recipe.yaml`, and at the end `model.safetensors` and a report with the final
accuracy per readout step. `brainlike.training.run.train` sets a Trainer up from names and folders.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
import torch.nn as nn
import yaml
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from brainlike.data import LabeledImages
from brainlike.errors import BrainlikeError
from brainlike.precision import autocast, autocast_dtype
from brainlike.runtime import distributed as dist_utils
from brainlike.runtime.batches import Collate, Transformed, eval_transform
from brainlike.runtime.checkpoints import rng_state, save_checkpoint, set_rng_state
from brainlike.runtime.distributed import Context
from brainlike.runtime.evaluation import Evaluation, eval_loader, run_evaluation, write_evaluation_report
from brainlike.runtime.metrics import Accuracy
from brainlike.runtime.model_setup import CHECKPOINT_SETTINGS
from brainlike.runtime.readouts import ReadoutLoss, Readouts
from brainlike.training.augment import is_random, train_transform
from brainlike.training.ddp import unused_parameters
from brainlike.training.losses import clip_adaptive, inverse_frequency_weights
from brainlike.training.recipes import Recipe
from brainlike.training.run_log import RunLog
from brainlike.training.sampler import ResumableSampler
from brainlike.training.schedules import make_schedule


class Interrupted(Exception):
    """Raised by a step callback to stop a run (used to simulate a kill)."""


@dataclass
class TrainResult:
    output: Path
    epochs: int
    steps: int
    stopped_because: str
    val: Evaluation | None
    main_process: bool = True


class Trainer:
    """Trains `model` on `train_set` with `recipe`; validates on `val_set` after every epoch."""

    def __init__(
        self,
        model: nn.Module,
        train_set: LabeledImages,
        val_set: LabeledImages | None,
        recipe: Recipe,
        *,
        output: str | Path,
        context: Context | None = None,
        progress: bool = True,
        model_name: str | None = None,
        model_config: Mapping[str, Any] | None = None,
        fingerprint: Mapping[str, Any] | None = None,
    ):
        context = context or Context()
        self.fingerprint = dict(fingerprint or {})  # what started the run; a resume must match it
        self.recipe, self.context, self.progress = recipe, context, progress
        self.output = Path(output)
        self.model_name, self.model_config = model_name, dict(model_config or {})
        card = getattr(model, "card", None)
        self.size = recipe.input_size or (card.input_size if card else 224)
        self.preprocessing = recipe.preprocessing or (card.preprocessing if card else "imagenet")
        device = context.device
        self.model = model.to(device)
        self.readouts = Readouts(self.model)
        self.amp_dtype = autocast_dtype(recipe.precision, device.type)
        self.train_set, self.val_set = train_set, val_set

        self.train_data = Transformed(
            train_set,
            train_transform(recipe.train_transform, size=self.size, isotropic_blur=recipe.isotropic_blur),
            seed=recipe.seed,
            random=is_random(recipe.train_transform),
        )
        self.sampler = ResumableSampler(
            self.train_data,
            batch_size=recipe.batch_size,
            num_replicas=context.world_size,
            rank=context.rank,
            seed=recipe.seed,
        )
        if self.sampler.batches_per_epoch == 0:
            raise BrainlikeError(
                f"the training set has {len(train_set)} images, fewer than one batch of "
                f"{recipe.batch_size}; lower batch_size"
            )
        self.loader = DataLoader(
            self.train_data,
            batch_size=self.sampler.per_rank_batch,
            sampler=self.sampler,
            num_workers=recipe.workers,
            collate_fn=Collate(self.preprocessing),
            pin_memory=device.type == "cuda",
            generator=torch.Generator().manual_seed(recipe.seed),
        )
        self.val_loader = None
        if val_set is not None:
            val_transform = eval_transform(recipe.val_transform, size=self.size, crop_fraction=recipe.crop_fraction)
            val_batch = max(1, (recipe.val_batch_size or recipe.batch_size) // context.world_size)
            self.val_loader = eval_loader(
                val_set,
                val_transform,
                self.preprocessing,
                batch_size=val_batch,
                workers=recipe.workers,
                context=context,
            )

        weights = None
        if recipe.class_weights:
            weights = inverse_frequency_weights(train_set.targets, train_set.num_classes)
        self.loss_fn = ReadoutLoss(label_smoothing=recipe.label_smoothing, class_weights=weights).to(device)

        self.readout_steps, unused = self._probe()
        self.network = self.readouts
        if context.distributed:
            find_unused = {"auto": bool(unused), "true": True, "false": False}[recipe.find_unused_parameters]
            self.network = DistributedDataParallel(
                self.readouts,
                device_ids=[device.index] if device.type == "cuda" else None,
                find_unused_parameters=find_unused,
            )
        self.unused_parameters = unused

        self.optimizer = self._optimizer()
        self.schedule = make_schedule(recipe)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.amp_dtype == torch.float16)
        self.epoch = self.batch = self.global_step = 0
        self.meter = Accuracy()
        self.last_checkpoint: Path | None = None
        self.val_result: Evaluation | None = None

    # ---------------------------------------------------------------------------------- set-up

    def _probe(self) -> tuple[int, list[str]]:
        """Readout count, and parameters idle in the loss (DDP must be told about them)."""
        generator = torch.Generator().manual_seed(0)
        example = torch.randn(2, 3, self.size, self.size, generator=generator).to(self.context.device)
        self.model.eval()  # so the probe leaves BatchNorm statistics alone
        with torch.no_grad():
            steps = len(self.readouts(example[:1]))
        self.model.train()
        if not self.context.distributed:
            return steps, []
        names = unused_parameters(_LossView(self.readouts, self.recipe.readout_loss), example, False)
        return steps, [n.removeprefix("readouts.model.") for n in names]

    def _optimizer(self) -> torch.optim.Optimizer:
        params = [p for p in self.model.parameters() if p.requires_grad]
        r = self.recipe
        if r.optimizer == "adam":
            return torch.optim.Adam(params, lr=r.lr, weight_decay=r.weight_decay)
        return torch.optim.SGD(params, lr=r.lr, momentum=r.momentum, weight_decay=r.weight_decay, nesterov=r.nesterov)

    # ------------------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "model_config": self.model_config,
            "fingerprint": self.fingerprint,
            "recipe": self.recipe.as_dict(),
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": self.epoch,
            "batch": self.batch,
            "global_step": self.global_step,
            "meter": {"hits": self.meter.hits, "loss_sum": self.meter.loss_sum, "items": self.meter.items},
            "rng": rng_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.batch, self.global_step = state["epoch"], state["batch"], state["global_step"]
        meter = state["meter"]
        self.meter = Accuracy(loss_sum=meter["loss_sum"], items=meter["items"], hits=meter["hits"])
        set_rng_state(state["rng"])

    def save(self, *, epoch_file: bool = False) -> None:
        if not self.context.is_main:
            return
        state = self.state_dict()
        self.last_checkpoint = save_checkpoint(state, self.output / "latest.pt")
        if epoch_file:
            save_checkpoint(state, self.output / f"epoch_{self.epoch:03d}.pt")

    # ------------------------------------------------------------------------------------ loops

    def _set_lr(self) -> float:
        lr = self.schedule.lr(self.epoch, self.batch, self.sampler.batches_per_epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        with autocast(self.recipe.precision, self.context.device.type):
            outputs = self.network(x)
            counted = outputs if self.recipe.readout_loss == "mean" else outputs[-1:]
            loss = self.loss_fn(counted, y)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.recipe.grad_clip != "none":
            self.scaler.unscale_(self.optimizer)
            if self.recipe.grad_clip == "adaptive":
                clip_adaptive(self.model.parameters(), self.recipe.clip_value)
            else:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.recipe.clip_value)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.detach(), outputs

    def _check_finite(self, loss: torch.Tensor) -> float:
        value = dist_utils.all_sum(loss.double().view(1), self.context).item() / self.context.world_size
        if not math.isfinite(value):
            where = f"epoch {self.epoch}, batch {self.batch} (training step {self.global_step + 1})"
            kept = (
                f"the last good checkpoint is {self.last_checkpoint}"
                if self.last_checkpoint
                else "no checkpoint had been written yet"
            )
            raise BrainlikeError(
                f"the training loss became {value} at {where}; stopped without saving, "
                f"{kept}. Lower the learning rate or use --precision fp32"
            )
        return value

    def validate(self) -> Evaluation | None:
        if self.val_loader is None:
            return None
        return run_evaluation(
            self.readouts,
            self.val_loader,
            loss_fn=self.loss_fn,
            device=self.context.device,
            precision=self.recipe.precision,
            context=self.context,
            progress=self.progress,
            readout_steps=self.readout_steps,
        )

    def fit(self, *, max_steps: int | None = None, on_step: Callable[["Trainer"], None] | None = None) -> TrainResult:
        """Train until the recipe's epochs are done (or the schedule stops, or `max_steps` steps)."""
        from tqdm import tqdm

        r, log = self.recipe, self._open_log()
        last_save = time.monotonic()
        stopped = "epochs"
        device = self.context.device
        self.model.train()
        try:
            while r.epochs is None or self.epoch < r.epochs:
                self.sampler.set_position(self.epoch, self.batch)
                bar = tqdm(
                    self.loader,
                    desc=f"epoch {self.epoch}",
                    disable=not (self.progress and self.context.is_main),
                    initial=self.batch,
                    total=self.sampler.batches_per_epoch,
                    leave=False,
                )
                tick, images = time.perf_counter(), 0
                lr = self._set_lr()
                for batch in bar:
                    if batch is None:
                        continue
                    x, y = batch[0].to(device, non_blocking=True), batch[1].to(device, non_blocking=True)
                    lr = self._set_lr()
                    loss, outputs = self.train_step(x, y)
                    value = self._check_finite(loss)
                    self.meter.update(value, outputs, y)
                    self.batch += 1
                    self.global_step += 1
                    images += len(y) * self.context.world_size
                    if self.global_step % r.log_every == 0 or self.batch == self.sampler.batches_per_epoch:
                        rate = images / max(time.perf_counter() - tick, 1e-9)
                        log.write(
                            "train",
                            epoch=self.epoch,
                            step=self.global_step,
                            lr=lr,
                            loss=self.meter.loss,
                            top1=self.meter.top1,
                            top5=self.meter.top5,
                            images_per_s=rate,
                        )
                        bar.set_postfix(loss=f"{self.meter.loss:.3f}", top1=f"{self.meter.top1[-1]:.3f}")
                    if on_step is not None:
                        on_step(self)
                    if max_steps is not None and self.global_step >= max_steps:
                        self.save()
                        return self._finish(log, "max_steps")
                    if self.batch < self.sampler.batches_per_epoch and dist_utils.broadcast_flag(
                        time.monotonic() - last_save >= 60 * r.checkpoint_minutes, self.context
                    ):
                        self.save()
                        last_save = time.monotonic()
                bar.close()
                self.val_result = self.validate()
                if self.val_result is not None:
                    log.write(
                        "val",
                        epoch=self.epoch,
                        step=self.global_step,
                        lr=lr,
                        loss=self.val_result.loss,
                        top1=self.val_result.top1,
                        top5=self.val_result.top5,
                    )
                self.schedule.end_epoch(self.epoch, self.val_result.loss if self.val_result else None)
                finished_schedule = self.schedule.finished(self.epoch, self.sampler.batches_per_epoch)
                self.epoch += 1
                self.batch = 0
                self.meter = Accuracy()
                keep = r.keep_epoch_checkpoints and self.epoch % r.keep_epoch_checkpoints == 0
                self.save(epoch_file=bool(keep))
                last_save = time.monotonic()
                if finished_schedule:
                    stopped = "stop_lr"
                    break
        finally:
            log.close()
        return self._finish(log, stopped)

    def _open_log(self) -> RunLog:
        resume_step = self.global_step if self.global_step else None
        if self.context.is_main:
            self.output.mkdir(parents=True, exist_ok=True)
            (self.output / "recipe.yaml").write_text(yaml.safe_dump(self.recipe.as_dict(), sort_keys=False))
        return RunLog(
            self.output, readout_steps=self.readout_steps, enabled=self.context.is_main, resume_step=resume_step
        )

    def _finish(self, log: RunLog, stopped: str) -> TrainResult:
        log.close()
        if self.context.is_main and stopped != "max_steps":
            from brainlike.weights import save_weights

            recipe = self.recipe.as_dict()
            settings = {k: recipe[k] for k in CHECKPOINT_SETTINGS if recipe.get(k) is not None}
            save_weights(self.model, self.output / "model.safetensors", settings=settings)
            if self.val_result is not None:
                write_evaluation_report(
                    self.val_result,
                    self.output / "report",
                    title=f"{self.model_name or type(self.model).__name__} after {self.epoch} epoch(s)",
                    details={"recipe": self.recipe.as_dict(), "epochs": self.epoch, "steps": self.global_step},
                )
        return TrainResult(self.output, self.epoch, self.global_step, stopped, self.val_result, self.context.is_main)


class _LossView(nn.Module):
    """The readouts the loss uses, summed: what the unused-parameter probe differentiates."""

    def __init__(self, readouts: Readouts, readout_loss: str):
        super().__init__()
        self.readouts = readouts
        self.readout_loss = readout_loss

    def forward(self, x):
        outputs = self.readouts(x)
        counted = outputs if self.readout_loss == "mean" else outputs[-1:]
        return sum(o.float().sum() for o in counted)
