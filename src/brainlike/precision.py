"""Numeric precision for inference and training: "fp32", "bf16", "fp16", "mixed" or "tf32".

bf16 and fp16 run under torch.autocast, so weights stay fp32 and only the heavy ops (convolutions,
matrix products) run in low precision. "mixed" is fp16 (with loss scaling in training) on a GPU and
bf16 elsewhere; "tf32" lets fp32 matrix products on a GPU use TF32 tensor cores. bf16 is fast only
where the hardware has bf16 arithmetic (GPUs, CPUs with AVX-512 BF16 or AMX); elsewhere, such as an
AVX2-only CPU, autocast converts and falls back to slow kernels.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from functools import cache

import torch

from brainlike.errors import BrainlikeError

PRECISIONS = ("fp32", "bf16", "fp16", "mixed", "tf32")


def autocast_dtype(precision: str, device_type: str = "cpu") -> torch.dtype | None:
    """The dtype autocast runs in for `precision` on `device_type` (None: no autocast)."""
    if precision not in PRECISIONS:
        raise BrainlikeError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
    if precision in ("fp16", "tf32") and device_type != "cuda":
        raise BrainlikeError(f"precision {precision} needs a CUDA GPU; on {device_type} use fp32 or bf16")
    if precision == "mixed":
        return torch.float16 if device_type == "cuda" else torch.bfloat16
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)


@cache
def cpu_runs_bf16_fast() -> bool:
    """Whether oneDNN has bf16 kernels for this CPU (AVX-512 or newer); on AVX2 it has none."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


@contextmanager
def autocast(precision: str = "fp32", device_type: str = "cpu"):
    dtype = autocast_dtype(precision, device_type)
    if dtype is torch.bfloat16 and device_type == "cpu" and not cpu_runs_bf16_fast():
        warnings.warn(
            "oneDNN has no bf16 kernels for this CPU (they need AVX-512), so bf16 runs several times slower "
            "than fp32 (CORnet-Z on AVX2: 7x); use fp32 here",
            RuntimeWarning,
            stacklevel=3,
        )
    if dtype is not None:
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
        yield
