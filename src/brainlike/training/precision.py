"""Mixed precision: which autocast dtype a recipe's `precision` means on a device."""

from __future__ import annotations

import contextlib

import torch

from brainlike.errors import BrainlikeError


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """None for fp32; `mixed` is fp16 (with loss scaling) on GPU and bf16 on CPU."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision == "fp16":
        return torch.float16
    if precision == "mixed":
        return torch.float16 if device.type == "cuda" else torch.bfloat16
    raise BrainlikeError(f"precision must be fp32, bf16, fp16 or mixed, not {precision!r}")


def autocast(dtype: torch.dtype | None, device: torch.device):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
