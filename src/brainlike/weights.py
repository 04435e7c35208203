"""Finding, verifying and loading checkpoints (downloads: `brainlike.downloads`).

Downloads go to `$BRAINLIKE_HOME/weights` (default `~/.cache/brainlike/weights`). A download is
streamed to a partial file under `$BRAINLIKE_HOME/downloads`, checked against the expected SHA-256
(full or prefix) and only then renamed into place, so a killed download never leaves a file that looks
complete; with a hash, the next try resumes from the partial file. Loading never runs pickled code:
torch files are read with `weights_only=True`, or the file is safetensors.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import struct
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import torch
import torch.nn as nn

from brainlike.downloads import brainlike_home, download, sha256_of
from brainlike.errors import BrainlikeError
from brainlike.reports import atomic_path, write_atomic

_NESTING_KEYS = ("state_dict", "model_state_dict", "model")
# What torch.load raises on random or damaged bytes (a fuzz test feeds it both): the legacy pickle path
# runs the opcodes it finds, so stack and memo errors surface as they are.
_UNREADABLE = (
    RuntimeError,
    EOFError,
    zipfile.BadZipFile,
    OSError,
    IndexError,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    UnicodeDecodeError,
    struct.error,
    OverflowError,
)
_PREFIX = "module."

if TYPE_CHECKING:
    from brainlike.registry import ModelCard


@dataclass(frozen=True)
class WeightSpec:
    """A published checkpoint: where to get it, how to check it, what configuration it implies.

    `sha256` is the full hex digest or a prefix of it (official files often carry 8 hex digits in
    their name). `config` holds the constructor arguments the weights were trained with.
    `licence` is the licence stated by the repository that publishes the weights (`source`), as an SPDX
    identifier with any caveat after it, or "unknown" where none could be confirmed; `citation` the
    paper that describes them; `parameters` the parameter count of the model they fill (built with
    `config`), which tests/test_weights.py checks against the built model.
    """

    url: str | None
    sha256: str | None = None
    format: str = "torch"
    config: Mapping[str, Any] = field(default_factory=dict)
    filename: str | None = None
    description: str = ""
    licence: str = "unknown"
    source: str = ""
    citation: str = ""
    parameters: int | None = None

    @property
    def file_name(self) -> str:
        if self.filename:
            return self.filename
        if not self.url:
            raise BrainlikeError("this weight entry has neither a file name nor a URL")
        return self.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


def weights_dir() -> Path:
    return brainlike_home() / "weights"


def cached_path(spec: WeightSpec) -> Path:
    return weights_dir() / spec.file_name


def resolve_weights(card: ModelCard, pretrained: bool | str | os.PathLike | None):
    """Turn the `pretrained` argument into (weight entry or None, local file or None)."""
    if pretrained is None or pretrained is False:
        return None, None
    if pretrained is True:
        if not card.weights:
            raise BrainlikeError(f"{card.name} has no published weights; use pretrained=False or a file")
        return card.weights[card.default_weights], None
    if isinstance(pretrained, str) and pretrained in card.weights:
        return card.weights[pretrained], None
    path = Path(pretrained)
    if path.is_file():
        return None, path
    tags = ", ".join(card.weights) or "none"
    raise BrainlikeError(
        f"{card.name}: {str(pretrained)!r} is neither a weight tag (published: {tags}) nor an existing file"
    )


def fetch(spec: WeightSpec, *, progress: bool = True) -> Path:
    """The local path of a published checkpoint, downloading it into the cache when needed.

    The file is checked against the published sha256 (prefix); a file published without one is pinned on
    first use (its sha256 recorded in the cache's pins.json) and checked against that from then on. A
    cached file that fails its check is moved aside, never deleted (it may be the only copy offline).
    """
    path = cached_path(spec)
    if not path.is_file():
        if not spec.url:
            raise BrainlikeError(f"{spec.file_name} is not in the cache and has no URL; put it at {path}")
        download(spec.url, path, spec.sha256, progress=progress)
    expected = spec.sha256 or pins().get(spec.file_name)
    actual = sha256_of(path)
    if expected and not actual.startswith(expected.lower()):
        aside = _move_aside(path)
        source = "published" if spec.sha256 else "pinned on first use"
        raise BrainlikeError(
            f"hash mismatch for {path}: sha256 {actual[:16]}… does not start with the {source} {expected}; "
            f"the file was moved to {aside}; put the right file at {path}, or run online to download it"
        )
    if not expected:
        _pin(spec.file_name, actual)
    return path


def pins() -> dict[str, str]:
    """File name -> sha256 recorded on first use, for weight files published without a hash."""
    path = weights_dir() / "pins.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _pin(file_name: str, digest: str) -> None:
    recorded = {**pins(), file_name: digest}
    write_atomic(weights_dir() / "pins.json", json.dumps(recorded, indent=1, sort_keys=True))
    warnings.warn(
        f"{file_name} has no published hash; its sha256 {digest[:16]}… is pinned on first use and checked on "
        "every later load",
        stacklevel=3,
    )


def _move_aside(path: Path) -> Path:
    aside = brainlike_home() / "rejected" / f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}"
    aside.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(path, aside)
    return aside


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a checkpoint without executing code and return a plain, unprefixed state_dict.

    Accepts safetensors, a plain state_dict, or a dict holding one under `state_dict` (the official
    CORnet format), `model_state_dict` or `model`; a leading `module.` (DataParallel) is removed.
    """
    return read_checkpoint(path)[0]


def load_torch_file(path: Path):
    """torch.load without executing code; a refused or unreadable file is one clear BrainlikeError."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "unsupported global" not in str(error).lower():  # torch words it with either case
            raise BrainlikeError(f"{path} is not a readable torch checkpoint (corrupt?): {error}") from None
        raise BrainlikeError(
            f"{path} holds Python objects that only arbitrary code execution could load; brainlike "
            f"refuses to unpickle them. Save its state_dict alone (torch.save(model.state_dict(), ...)) "
            f"or as safetensors"
        ) from None
    except _UNREADABLE as error:
        raise BrainlikeError(f"{path} is not a readable torch checkpoint (corrupt or truncated?): {error}") from None


def save_state(state: Mapping[str, Any], path: str | os.PathLike, *, format: str) -> Path:
    """Write a dict of tensors and plain values atomically, tagged with `format` (training runs, CALC fits)."""
    with atomic_path(path) as partial:
        torch.save({"format": format, **state}, partial)
    return Path(path)


def load_state(path: str | os.PathLike, *, format: str, what: str) -> dict[str, Any]:
    """A dict written by `save_state` with this `format`; anything else is a clear error naming `what`."""
    path = Path(path)
    if not path.is_file():
        raise BrainlikeError(f"no {what} at {path}")
    state = load_torch_file(path)
    if not isinstance(state, dict) or state.get("format") != format:
        raise BrainlikeError(f"{path} is not a {what} (no format {format!r})")
    return state


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict]:
    """Like `read_state_dict`, plus the checkpoint's other top-level entries (training flags, epoch...)."""
    path = Path(path)
    if not path.is_file():
        raise BrainlikeError(f"no checkpoint at {path}")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            obj = load_file(str(path))
        except (SafetensorError, OSError) as error:
            raise BrainlikeError(f"{path} is not a readable safetensors file ({error})") from None
    else:
        obj = load_torch_file(path)
    extras = (
        {}
        if not isinstance(obj, Mapping) or _is_state_dict(obj)
        else {k: v for k, v in obj.items() if k not in _NESTING_KEYS}
    )
    return _plain_state_dict(obj, path), extras


def _plain_state_dict(obj, path: Path) -> dict[str, torch.Tensor]:
    while isinstance(obj, Mapping) and not _is_state_dict(obj):
        inner = next((obj[k] for k in _NESTING_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, Mapping) or not _is_state_dict(obj):
        raise BrainlikeError(f"{path} holds no state_dict (a mapping of names to tensors)")
    return {k[len(_PREFIX) :] if k.startswith(_PREFIX) else k: v for k, v in obj.items()}


def _is_state_dict(obj: Mapping) -> bool:
    return bool(obj) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def _listing(keys: list[str], limit: int = 8) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" … ({len(keys)} in all)" if len(keys) > limit else "")


SETTINGS_KEY = "brainlike_settings"


def saved_settings(path: str | os.PathLike) -> dict[str, Any]:
    """The settings `save_weights` stored in a safetensors file (empty for other files or none stored)."""
    if not str(path).endswith(".safetensors") or not Path(path).is_file():
        return {}
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), "pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError) as error:
        raise BrainlikeError(f"{path} is not a readable safetensors file ({error})") from None
    return json.loads(metadata[SETTINGS_KEY]) if SETTINGS_KEY in metadata else {}


def load_state_dict(model: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Load strictly, with an error that lists missing, unexpected and mis-shaped entries."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    misshaped = [
        f"{k} {tuple(state_dict[k].shape)} (model {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state_dict and state_dict[k].shape != v.shape
    ]
    problems = []
    if missing:
        problems.append(f"missing keys: {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_listing(unexpected)}")
    if misshaped:
        problems.append(f"shape mismatches: {_listing(misshaped)}")
    broken = [k for k, v in state_dict.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if broken:
        problems.append(f"NaN or infinite values in {_listing(broken)}")
    if problems:
        name = getattr(getattr(model, "card", None), "name", type(model).__name__)
        raise BrainlikeError(f"{source} does not fit {name}: " + "; ".join(problems))
    model.load_state_dict(state_dict, strict=True)


def load_pretrained(model: nn.Module, spec: WeightSpec | None, local_path: Path | None, *, new_head=False) -> None:
    """Load the published or local checkpoint strictly; with `new_head`, the entries whose shape differs
    from the model's (the classifier built for another number of classes) keep the model's initialisation."""
    path = local_path if local_path is not None else fetch(spec)
    state_dict, extras = read_checkpoint(path)
    # A model whose checkpoints carry their own configuration (VOneNet's `flags`) reads it here.
    adapt = getattr(model, "adapt_checkpoint", None)
    if adapt is not None:
        state_dict = adapt(state_dict, extras)
    if new_head:
        state_dict = _with_fresh_head(model, state_dict)
    load_state_dict(model, state_dict, source=str(path))


def _with_fresh_head(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    own = model.state_dict()
    reset = sorted(k for k, v in own.items() if k in state_dict and state_dict[k].shape != v.shape)
    if reset:
        name = getattr(getattr(model, "card", None), "name", type(model).__name__)
        warnings.warn(f"{name}: new head, re-initialised {', '.join(reset)} (the rest is loaded)", stacklevel=4)
    return {k: (own[k] if k in reset else v) for k, v in state_dict.items()}


def save_weights(
    model: nn.Module,
    path: str | os.PathLike,
    *,
    dataparallel_format: bool = False,
    settings: Mapping[str, Any] | None = None,
) -> Path:
    """Write the model's state_dict atomically: safetensors for `.safetensors`, else a torch file.

    With `dataparallel_format`, the torch file is `{"state_dict": {"module." + key: tensor}}`, the
    layout of the official CORnet releases. `settings` (plain values: the input size, preprocessing and
    validation transform the weights were trained with) go into the safetensors metadata, where
    `saved_settings` reads them back.
    """
    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as partial:
        if path.suffix == ".safetensors":
            from safetensors.torch import save_file

            metadata = {SETTINGS_KEY: json.dumps(dict(settings))} if settings else None
            save_file(state, str(partial), metadata=metadata)
        else:
            if dataparallel_format:
                state = {"state_dict": {_PREFIX + k: v for k, v in state.items()}}
            torch.save(state, partial)
    return path
