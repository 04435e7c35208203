"""Training checkpoints: everything a run needs to continue exactly, written atomically.

A checkpoint is a dict of tensors and plain Python values, so it loads with `weights_only=True`.
The RNG states of Python, numpy and torch (CPU and every CUDA device) are stored as tensors.
The model's weights sit under "model", so `create_model(..., pretrained=<checkpoint>)` reads them.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from brainlike.weights import load_state, save_state

FORMAT = "brainlike-train-1"
# Recipe fields renamed since earlier releases (old name -> current); checkpoints may hold either.
RECIPE_RENAMES = {"image_size": "input_size", "normalization": "preprocessing"}


def rng_state() -> dict[str, Any]:
    kind, keys, position, has_gauss, cached = np.random.get_state()
    version, state, gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": position,
            "has_gauss": has_gauss,
            "cached": cached,
        },
        "python": {"version": version, "state": torch.tensor(state, dtype=torch.int64), "gauss": gauss},
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["position"], n["has_gauss"], n["cached"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"].tolist()), p["gauss"]))


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write `state` to `path` atomically (a partial file is renamed into place when complete)."""
    return save_state(state, path, format=FORMAT)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if path.is_dir():
        path = path / "latest.pt"
    return load_state(path, format=FORMAT, what="brainlike training checkpoint")
