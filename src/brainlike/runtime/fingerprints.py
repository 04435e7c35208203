"""What produced a result: a fingerprint compared before a run resumes, a cache is reused or files merge.

A fingerprint is a flat dict of plain values: the model's name and configuration, a digest of the
weights it actually holds (so random weights, other checkpoints and fine-tuned copies all differ), its
preprocessing and input size, the brainlike version, and the settings of the run itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn as nn

from brainlike.errors import BrainlikeError
from brainlike.reports import to_jsonable


def weights_digest(model: nn.Module) -> str:
    """sha256 (first 16 hex digits) over every parameter and buffer: names, dtypes, shapes and values."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        plain = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{plain.dtype}:{tuple(plain.shape)};".encode())
        digest.update(plain.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


def model_fingerprint(model: nn.Module) -> dict[str, Any]:
    """The parts of a fingerprint that describe the model (card name and config, weights, input)."""
    from brainlike import __version__

    card = getattr(model, "card", None)
    return to_jsonable(
        {
            "model": card.name if card else type(model).__name__,
            "model_config": dict(card.config) if card else {},
            "weights_sha256": weights_digest(model),
            "preprocessing": card.preprocessing if card else None,
            "input_size": card.input_size if card else None,
            "brainlike": __version__,
        }
    )


def fingerprint(model: nn.Module, **settings: Any) -> dict[str, Any]:
    """The model's fingerprint with the run's settings added."""
    return {**model_fingerprint(model), **to_jsonable(settings)}


def differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """'key: saved -> current' for every key whose value differs (missing keys count as None)."""
    keys = sorted(set(saved) | set(current))
    return [f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in keys if saved.get(k) != current.get(k)]


def check_same_run(
    saved: Mapping[str, Any],
    current: Mapping[str, Any],
    where: str,
    remedy: str = "choose another output or start again with --overwrite",
) -> None:
    """Refuse to continue or reuse `where` when it was made by another model, other weights or settings.

    Both are compared as they read back from JSON (tuples as lists), so a fingerprint stored in a file
    equals the one computed now when nothing changed."""
    changed = differences(plain(saved), plain(current))
    if changed:
        raise BrainlikeError(f"{where} holds a run with other settings ({'; '.join(changed[:4])}); {remedy}")


def plain(fingerprint: Mapping[str, Any]) -> dict[str, Any]:
    """The fingerprint as it reads back from JSON (tuples become lists, numpy scalars numbers)."""
    return json.loads(encode(fingerprint))


def encode(fingerprint: Mapping[str, Any]) -> str:
    """The fingerprint as one JSON string (for HDF5 attributes and file names)."""
    return json.dumps(to_jsonable(dict(fingerprint)), sort_keys=True)
