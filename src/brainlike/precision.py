"""Numeric precision for inference and training: "fp32", "bf16", "fp16" (GPU) or "tf32" (GPU).

bf16 and fp16 run under torch.autocast, so weights stay fp32 and only the heavy ops (convolutions,
matrix products) run in low precision; tf32 lets fp32 matrix products use TF32 tensor cores.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext

import torch

from brainlike.errors import BrainlikeError

PRECISIONS = ("fp32", "bf16", "fp16", "tf32")


def check_precision(precision: str, device_type: str = "cpu") -> str:
    if precision not in PRECISIONS:
        raise BrainlikeError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
    if precision in ("fp16", "tf32") and device_type != "cuda":
        raise BrainlikeError(f"precision {precision} needs a CUDA GPU; on {device_type} use fp32 or bf16")
    return precision


@contextmanager
def autocast(precision: str = "fp32", device_type: str = "cpu"):
    check_precision(precision, device_type)
    if precision in ("bf16", "fp16"):
        dtype = torch.bfloat16 if precision == "bf16" else torch.float16
        with torch.autocast(device_type, dtype=dtype):
            yield
    elif precision == "tf32":
        previous = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        try:
            yield
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = previous
    else:
        with nullcontext():
            yield
