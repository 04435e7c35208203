"""Which device a model runs on, and how many cores its compute threads leave for other work."""

from __future__ import annotations

import os

import torch

from brainlike.errors import BrainlikeError


def pick_device(name: str | None, local_rank: int = 0) -> torch.device:
    """The device `name` means: "auto" or None is the local rank's GPU when there is one, else the CPU."""
    if name in (None, "auto"):
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise BrainlikeError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BrainlikeError(f"device {name!r}: no CUDA GPU is available here; use auto or cpu")
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def spare_cores(device: str | torch.device = "cpu") -> int:
    """The cores the model's compute threads leave free (on a GPU one thread feeds the device)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    busy = torch.get_num_threads() if torch.device(device).type == "cpu" else 1
    return max(0, cores - busy)


def decode_workers(device: str | torch.device = "cpu") -> int:
    """Decoding processes that can run beside the model: the spare cores, at most 8. With none to spare,
    decoding in the main process costs less than a worker competing with the compute threads
    (bench/MEASUREMENTS.md)."""
    return min(8, spare_cores(device))
