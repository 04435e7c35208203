"""Training checkpoints: everything a run needs to continue exactly, written atomically.

A checkpoint is a dict of tensors and plain Python values, so it loads with `weights_only=True`.
The RNG states of Python, numpy and torch (CPU and every CUDA device) are stored as tensors.
The model's weights sit under "model", so `create_model(..., pretrained=<checkpoint>)` reads them.
"""

from __future__ import annotations

import os
import pickle
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from brainlike.errors import BrainlikeError

FORMAT = "brainlike-train-1"


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        torch.save({"format": FORMAT, **state}, partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if path.is_dir():
        path = path / "latest.pt"
    if not path.is_file():
        raise BrainlikeError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError) as error:
        raise BrainlikeError(f"{path} is not a readable brainlike checkpoint: {error}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise BrainlikeError(f"{path} is not a brainlike training checkpoint (no format {FORMAT!r})")
    return state
