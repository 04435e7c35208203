"""The one atomic file writer: reports, checkpoints, downloads and CALC fits all go through it.

A file is written under a temporary name beside its destination and renamed onto it only once it
is complete, so a reader (or a resumed run) never sees half a file, and an interrupted write leaves
the previous version in place and no debris behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; it replaces `path` if the block finishes, else it is removed.

    with atomic_path("run/latest.pt") as partial:
        torch.save(state, partial)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_atomic(path: str | os.PathLike, content: str | bytes) -> Path:
    """Write text or bytes to `path` atomically; returns the path."""
    with atomic_path(path) as partial:
        if isinstance(content, bytes):
            partial.write_bytes(content)
        else:
            partial.write_text(content)
    return Path(path)
