"""Downloads into brainlike's cache: hash-checked, resumable, atomic, one process at a time per file.

Everything brainlike fetches (published weights, the Geirhos stimuli) lives under `$BRAINLIKE_HOME`
(default `~/.cache/brainlike`). A download is kept under `downloads/` until it is complete and, where
a hash is known, verified; only then is it moved to its destination, so a killed download never leaves
a file that looks complete.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tqdm import tqdm

from brainlike.errors import BrainlikeError
from brainlike.reports import atomic_path

try:
    import fcntl
except ImportError:  # Windows: no locks between processes
    fcntl = None

_CHUNK = 1 << 20
_RETRIES = 3
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)


def brainlike_home() -> Path:
    """Where brainlike keeps what it downloads: `$BRAINLIKE_HOME`, default ~/.cache/brainlike."""
    home = Path(os.environ.get("BRAINLIKE_HOME", Path.home() / ".cache" / "brainlike"))
    if home.exists() and not home.is_dir():
        raise BrainlikeError(f"BRAINLIKE_HOME={home} is not a folder; point it at a folder brainlike may write in")
    return home


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_hash(path: Path, expected: str | None, origin: str) -> None:
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
    """A URL could not be fetched (offline, refused, not found); `url`, `dest` and `reason` say which, and
    `status` is the HTTP status when a server answered."""

    def __init__(self, url: str, dest: Path, reason, status: int | None = None):
        self.url, self.dest, self.reason, self.status = url, Path(dest), reason, status
        if status is None:
            message = f"could not download {url} ({reason}); offline, fetch it by other means and put it at {dest}"
        else:
            message = (
                f"could not download {url}: the server answered {status} ({reason}), so the address is wrong "
                f"or the file has moved; put a copy at {dest}"
            )
        super().__init__(message)


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
                check_hash(partial, sha256, url)
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
        except urllib.error.HTTPError as error:
            raise DownloadError(url, dest, error.reason, status=error.code) from None
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
