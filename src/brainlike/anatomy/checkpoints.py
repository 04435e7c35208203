"""CALC fit checkpoints: `brainlike.weights` state files tagged with their own format and the method that wrote them.

A least-squares or L-BFGS checkpoint holds the values reached (c, sigma, w_rf) and the evaluations or
iterations so far; an Adam checkpoint the variables, the optimiser state, the steps and the cost curve.
A fit resumes only from a checkpoint of its own method: the states are not interchangeable, and only from
one of the same fit: every checkpoint written inside `stamped(fingerprint)` carries the fingerprint (the
system, strides, cost weights, seed and start; see `fit.fit_fingerprint`), and `check_same_fit` refuses
another one in a line naming what differs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np
import torch

from brainlike.errors import BrainlikeError
from brainlike.weights import load_state, save_state

FORMAT = "brainlike-calc-1"
_WHAT = "CALC fit checkpoint"
_FINGERPRINT: ContextVar[dict[str, Any] | None] = ContextVar("calc_fit_fingerprint", default=None)


@contextmanager
def stamped(fingerprint: Mapping[str, Any]) -> Iterator[None]:
    """Every checkpoint saved inside carries `fingerprint` (the optimisers save them; the fit knows what it is)."""
    token = _FINGERPRINT.set(dict(fingerprint))
    try:
        yield
    finally:
        _FINGERPRINT.reset(token)


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write `state` (numpy arrays become tensors, which a weights-only load reads back) atomically."""
    tensors = {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v for k, v in state.items()}
    fingerprint = _FINGERPRINT.get()
    if fingerprint is not None:
        tensors["fingerprint"] = json.dumps(fingerprint, sort_keys=True)
    return save_state(tensors, path, format=FORMAT)


def saved_fingerprint(state: Mapping[str, Any]) -> dict[str, Any] | None:
    """The fingerprint a checkpoint carries (None for one written before fingerprints, or outside a fit)."""
    text = state.get("fingerprint")
    return json.loads(text) if isinstance(text, str) else None


def check_same_fit(saved: Mapping[str, Any], current: Mapping[str, Any], where: str, remedy: str) -> None:
    """Refuse to continue `where` when another fit (system, strides, weights, seed or start) made it."""
    keys = sorted(set(saved) | set(current))
    changed = [f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in keys if saved.get(k) != current.get(k)]
    if changed:
        raise BrainlikeError(f"{where} holds another CALC fit ({'; '.join(changed[:4])}); {remedy}")


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    return load_state(path, format=FORMAT, what=_WHAT)


def save_values(path: str | Path, method: str, values, iterations: int) -> Path:
    """A checkpoint of the values (c, sigma, w_rf) a least-squares or L-BFGS fit has reached."""
    c, sigma, w_rf = values
    return save_checkpoint({"method": method, "c": c, "sigma": sigma, "w_rf": w_rf, "iterations": iterations}, path)


def resumable(checkpoint: str | Path | None, resume: bool, method: str) -> dict[str, Any] | None:
    """The state to resume from: None unless resuming from a checkpoint that exists; it must be `method`'s."""
    if not (resume and checkpoint and Path(checkpoint).is_file()):
        return None
    saved = load_checkpoint(checkpoint)
    if saved.get("method") != method:
        raise BrainlikeError(
            f"{checkpoint} is a checkpoint of method {saved.get('method')!r}, not {method!r}: resume with "
            f"method {saved.get('method')!r}, or start afresh without resuming"
        )
    return saved


def resumed_values(checkpoint: str | Path | None, resume: bool, method: str, start):
    """The values saved by `save_values` when resuming, else `start`."""
    saved = resumable(checkpoint, resume, method)
    if saved is None:
        return start
    return tuple(saved[key].numpy() for key in ("c", "sigma", "w_rf"))
