"""Helpers to compare brainlike models with the originals' reference outputs.

The fixtures in tests/fixtures/reference_outputs were computed by the original implementations with
deterministic weights derived from each state_dict key (salt "brainlike-dev"); `fill_deterministic`
recreates those weights so our models can be run on the same input and compared.
"""

from __future__ import annotations

import math
import zlib
from pathlib import Path

import torch
import torch.nn as nn

FIXTURES = Path(__file__).parent / "fixtures" / "reference_outputs"
SALT = "brainlike-dev"


def deterministic_value(key: str, shape, dtype: torch.dtype) -> torch.Tensor:
    name = key.rsplit(".", 1)[-1]
    if name == "num_batches_tracked":
        return torch.zeros(shape, dtype=torch.int64)
    g = torch.Generator().manual_seed(zlib.crc32((SALT + key).encode()))
    shape = tuple(shape)
    if name == "running_var":
        value = 1 + 0.2 * torch.rand(shape, generator=g)
    elif name == "running_mean":
        value = 0.1 * torch.randn(shape, generator=g)
    elif len(shape) >= 2:
        value = torch.randn(shape, generator=g) / math.sqrt(math.prod(shape[1:]))
    elif name == "weight":
        value = 1 + 0.1 * torch.randn(shape, generator=g)
    else:
        value = 0.1 * torch.randn(shape, generator=g)
    return value.to(dtype)


def fill_deterministic(model: nn.Module, keep: tuple[str, ...] = ()) -> nn.Module:
    """Overwrite every state_dict entry (except those in `keep`) with its deterministic value."""
    state = model.state_dict()
    filled = {k: (v if k in keep else deterministic_value(k, v.shape, v.dtype)) for k, v in state.items()}
    model.load_state_dict(filled)
    return model


def reference(name: str) -> dict:
    return torch.load(FIXTURES / f"{name}.pt", weights_only=True)


def reference_input(size: int) -> torch.Tensor:
    return torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))


def subsample(t: torch.Tensor) -> torch.Tensor:
    flat = t.reshape(-1)
    step = max(1, flat.numel() // 1024)
    return flat[::step][:1024]


def relative_error(ours: torch.Tensor, ref: torch.Tensor) -> float:
    ours, ref = ours.double(), ref.double()
    return float((ours - ref).norm() / ref.norm().clamp_min(1e-30))
