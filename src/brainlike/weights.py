"""Finding, downloading, verifying and loading checkpoints.

Downloads go to `$BRAINLIKE_HOME/weights` (default `~/.cache/brainlike/weights`). A download is
streamed to a partial file under `$BRAINLIKE_HOME/downloads`, checked against the expected SHA-256
(full or prefix) and only then renamed into place, so a killed download never leaves a file that looks
complete; with a hash, the next try resumes from the partial file. Loading never runs pickled code:
torch files are read with `weights_only=True`, or the file is safetensors.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import pickle
import shutil
import urllib.error
import urllib.request
import zipfile
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import torch
import torch.nn as nn
from tqdm import tqdm

from brainlike.errors import BrainlikeError
from brainlike.reports import atomic_path

try:
    import fcntl
except ImportError:  # Windows: no locks between processes
    fcntl = None

_NESTING_KEYS = ("state_dict", "model_state_dict", "model")
_PREFIX = "module."
_CHUNK = 1 << 20
_RETRIES = 3
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)

if TYPE_CHECKING:
    from brainlike.registry import ModelCard


@dataclass(frozen=True)
class WeightSpec:
    """A published checkpoint: where to get it, how to check it, what configuration it implies.

    `sha256` is the full hex digest or a prefix of it (official files often carry 8 hex digits in
    their name). `config` holds the constructor arguments the weights were trained with.
    """

    url: str | None
    sha256: str | None = None
    format: str = "torch"
    config: Mapping[str, Any] = field(default_factory=dict)
    filename: str | None = None
    description: str = ""

    @property
    def file_name(self) -> str:
        if self.filename:
            return self.filename
        if not self.url:
            raise BrainlikeError("this weight entry has neither a file name nor a URL")
        return self.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


def brainlike_home() -> Path:
    return Path(os.environ.get("BRAINLIKE_HOME", Path.home() / ".cache" / "brainlike"))


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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_hash(path: Path, expected: str | None, origin: str) -> None:
    if not expected:
        return
    actual = sha256_of(path)
    if not actual.startswith(expected.lower()):
        path.unlink(missing_ok=True)
        raise BrainlikeError(
            f"hash mismatch for {origin}: sha256 {actual[:16]}… does not start with {expected}; "
            f"the file was removed, run again to download it anew"
        )


class DownloadError(BrainlikeError):
    """A URL could not be fetched (offline, refused, not found); `url`, `dest` and `reason` say which."""

    def __init__(self, url: str, dest: Path, reason):
        self.url, self.dest, self.reason = url, Path(dest), reason
        super().__init__(f"could not download {url} ({reason}); offline, fetch it by other means and put it at {dest}")


def partial_path(url: str, dest: Path) -> Path:
    """Where the bytes of an unfinished download of `url` to `dest` wait for the next try."""
    key = hashlib.sha256(f"{url}\n{Path(dest).resolve()}".encode()).hexdigest()[:16]
    return brainlike_home() / "downloads" / f"{Path(dest).name}.{key}.partial"


def download(url: str, dest: Path, sha256: str | None = None, *, progress: bool = True) -> Path:
    """Download `url` to `dest`, verifying `sha256` (hex digest or prefix) before the file appears at `dest`.

    With a hash, a download that stops (dropped connection, Ctrl-C, killed process) resumes with an HTTP
    range request: in this call after a dropped connection (up to `_RETRIES` times), or in a later one
    from the bytes kept at `partial_path(url, dest)` (a server that ignores ranges sends everything
    again). A file that fails the hash is removed (a resumed one is first fetched once more from the
    start). Without a hash nothing vouches for joined pieces, so every call starts afresh. One process
    at a time downloads a given file; a `dest` that already holds the hashed file is kept.
    """
    dest, partial = Path(dest), partial_path(url, dest)
    try:
        _download(url, dest, partial, sha256, progress)
    except OSError as error:
        raise BrainlikeError(f"could not write the download of {url} ({error}); is {dest.parent} writable?") from None
    return dest


def _download(url: str, dest: Path, partial: Path, sha256: str | None, progress: bool) -> None:
    partial.parent.mkdir(parents=True, exist_ok=True)
    with _claim(partial) as handle:
        if sha256 and dest.is_file() and sha256_of(dest).startswith(sha256.lower()):
            return
        try:
            if not sha256:
                handle.truncate(0)
            resumed = _size(handle) > 0
            _fetch_into(url, dest, handle, progress)
            if sha256 and not sha256_of(partial).startswith(sha256.lower()):
                if resumed:  # the kept bytes may belong to another version of the file: start over once
                    handle.truncate(0)
                    _fetch_into(url, dest, handle, progress)
                _check_hash(partial, sha256, url)
            if fcntl is None:
                handle.close()  # where files cannot be renamed while open
            _move_into_place(partial, dest)
        finally:
            if partial.is_file() and (not sha256 or partial.stat().st_size == 0):
                partial.unlink()


def _fetch_into(url: str, dest: Path, handle, progress: bool) -> None:
    """Append the rest of `url` to `handle`, resuming after a dropped connection that brought bytes."""
    retries = 0
    while True:
        before = _size(handle)
        try:
            _transfer(url, handle, progress, dest.name)
            return
        except _NETWORK_ERRORS as error:
            retries += 1
            if _size(handle) == before or retries > _RETRIES:
                raise DownloadError(url, dest, getattr(error, "reason", error)) from None


def _transfer(url: str, handle, progress: bool, name: str) -> None:
    offset = _size(handle)
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # nothing after the kept bytes: the hash check judges them
            return
        raise
    with response:
        if offset and response.status != 206:
            handle.truncate(0)
            offset = 0
        length = int(response.headers.get("Content-Length") or 0)
        total = offset + length if length else None
        with tqdm(total=total, initial=offset, unit="B", unit_scale=True, desc=name, disable=not progress) as bar:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                handle.write(chunk)
                bar.update(len(chunk))
        handle.flush()
    if total is not None and _size(handle) < total:
        raise ConnectionError(f"the connection closed after {_size(handle)} of {total} bytes")


def _size(handle) -> int:
    handle.flush()
    return os.fstat(handle.fileno()).st_size


@contextmanager
def _claim(partial: Path) -> Iterator:
    """`partial` opened for appending, held by this process alone (where the system has file locks)."""
    while True:
        handle = open(partial, "ab")
        if fcntl is None:
            break
        fcntl.flock(handle, fcntl.LOCK_EX)
        with suppress(FileNotFoundError):
            if os.stat(partial).st_ino == os.fstat(handle.fileno()).st_ino:
                break
        handle.close()  # another process finished (renamed) or dropped this file while we waited
    try:
        yield handle
    finally:
        handle.close()


def _move_into_place(partial: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(partial, dest)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        with atomic_path(dest) as staged:  # the cache and `dest` are on different file systems
            shutil.copyfile(partial, staged)
        partial.unlink()


def fetch(spec: WeightSpec, *, progress: bool = True) -> Path:
    """The local path of a published checkpoint, downloading it into the cache when needed."""
    path = cached_path(spec)
    if path.is_file():
        _check_hash(path, spec.sha256, str(path))
        return path
    if not spec.url:
        raise BrainlikeError(f"{spec.file_name} is not in the cache and has no URL; put it at {path}")
    return download(spec.url, path, spec.sha256, progress=progress)


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
        if "Unsupported global" not in str(error):
            raise BrainlikeError(f"{path} is not a readable torch checkpoint (corrupt?): {error}") from None
        raise BrainlikeError(
            f"{path} holds Python objects that only arbitrary code execution could load; brainlike "
            f"refuses to unpickle them. Save its state_dict alone (torch.save(model.state_dict(), ...)) "
            f"or as safetensors"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as error:
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
    if problems:
        name = getattr(getattr(model, "card", None), "name", type(model).__name__)
        raise BrainlikeError(f"{source} does not fit {name}: " + "; ".join(problems))
    model.load_state_dict(state_dict, strict=True)


def load_pretrained(model: nn.Module, spec: WeightSpec | None, local_path: Path | None) -> None:
    path = local_path if local_path is not None else fetch(spec)
    state_dict, extras = read_checkpoint(path)
    # A model whose checkpoints carry their own configuration (VOneNet's `flags`) reads it here.
    adapt = getattr(model, "adapt_checkpoint", None)
    if adapt is not None:
        state_dict = adapt(state_dict, extras)
    load_state_dict(model, state_dict, source=str(path))


def save_weights(model: nn.Module, path: str | os.PathLike, *, dataparallel_format: bool = False) -> Path:
    """Write the model's state_dict atomically: safetensors for `.safetensors`, else a torch file.

    With `dataparallel_format`, the torch file is `{"state_dict": {"module." + key: tensor}}`, the
    layout of the official CORnet releases.
    """
    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as partial:
        if path.suffix == ".safetensors":
            from safetensors.torch import save_file

            save_file(state, str(partial))
        else:
            if dataparallel_format:
                state = {"state_dict": {_PREFIX + k: v for k, v in state.items()}}
            torch.save(state, partial)
    return path
