"""The run's log: one CSV row per logged step and per validation, mirrored to TensorBoard.

Only the main process writes. On resume, rows past the checkpoint's step are dropped first, so the
log reads as if the run had never been interrupted.
"""

from __future__ import annotations

import csv
import importlib.util
import warnings
from pathlib import Path
from typing import Any


class RunLog:
    def __init__(
        self,
        folder: Path,
        *,
        readout_steps: int,
        enabled: bool,
        resume_step: int | None = None,
        tensorboard: bool = True,
    ):
        self.enabled = enabled
        self.path = folder / "log.csv"
        steps = range(readout_steps)
        self.columns = (
            ["kind", "epoch", "step", "lr", "loss"]
            + [f"top1_t{t}" for t in steps]
            + [f"top5_t{t}" for t in steps]
            + ["images_per_s"]
        )
        self.writer = None
        if not enabled:
            return
        folder.mkdir(parents=True, exist_ok=True)
        kept = self._rows_up_to(resume_step) if resume_step is not None else []
        with open(self.path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(self.columns)
            writer.writerows(kept)
        if tensorboard and importlib.util.find_spec("tensorboard") is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(folder / "tensorboard"), purge_step=resume_step)
        elif tensorboard:
            warnings.warn(
                "tensorboard is not installed, so the run is logged to log.csv only "
                "(pip install 'brainlike[logs]' for TensorBoard)",
                RuntimeWarning,
                stacklevel=3,
            )

    def _rows_up_to(self, step: int) -> list[list[str]]:
        if not self.path.is_file():
            return []
        with open(self.path, newline="") as f:
            rows = list(csv.reader(f))
        if not rows or rows[0] != self.columns:
            return []
        return [row for row in rows[1:] if int(row[2]) <= step]

    def write(
        self,
        kind: str,
        *,
        epoch: int,
        step: int,
        lr: float,
        loss: float,
        top1: list[float],
        top5: list[float],
        images_per_s: float | None = None,
    ) -> None:
        if not self.enabled:
            return
        row: list[Any] = [
            kind,
            epoch,
            step,
            f"{lr:.6g}",
            f"{loss:.6f}",
            *(f"{a:.5f}" for a in top1),
            *(f"{a:.5f}" for a in top5),
            "" if images_per_s is None else f"{images_per_s:.1f}",
        ]
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow(row)
        if self.writer is not None:
            self.writer.add_scalar(f"{kind}/loss", loss, step)
            self.writer.add_scalar("lr", lr, step)
            for t, (a1, a5) in enumerate(zip(top1, top5)):
                self.writer.add_scalar(f"{kind}/top1_t{t}", a1, step)
                self.writer.add_scalar(f"{kind}/top5_t{t}", a5, step)
            if images_per_s is not None:
                self.writer.add_scalar(f"{kind}/images_per_s", images_per_s, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
