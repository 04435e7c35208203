"""Keep freed activation memory in the process instead of handing it back to the kernel at once.

glibc's malloc serves every block above its mmap threshold (at most 32 MB by default) with a fresh
mmap and unmaps it on free. A VOne block's activations at batch 8 are 51 MB each, so every one of them
is new memory that the kernel must fault in and zero, page by page, on first touch: a 51 MB
elementwise op then takes 13 ms instead of 2 ms on a 2-core Xeon. Raising the mmap and trim thresholds
lets malloc reuse those blocks, as jemalloc or tcmalloc (PyTorch's advice for CPU inference) would: on
that machine forward passes at batch 8 ran 1.07x (BLT-VS) to 1.32x (VOneResNet-50) faster
(`bench/allocator.py`), and the uncapped V1 panel of VOneResNet-50 in 234 s instead of 339 s.

The cost is memory that stays mapped after a peak: up to `limit` bytes kept at the top of the heap,
and freed blocks in between that cannot be trimmed. The peak of a forward pass hardly moves; that of a
long run with many shapes can (the V1 panel above: 3.48 GB instead of 2.96 GB). The `brainlike`
command turns it on for its own process; a library caller decides for theirs with
`keep_freed_memory()`. BRAINLIKE_MALLOC=system leaves malloc as it is everywhere. Elsewhere than glibc
(macOS, Windows, musl) nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import lru_cache

ENV = "BRAINLIKE_MALLOC"
DEFAULT_LIMIT = 1 << 30
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>


@lru_cache(maxsize=1)
def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "gnu_get_libc_version") else None  # musl's mallopt is not glibc's


@lru_cache(maxsize=None)
def keep_freed_memory(limit: int = DEFAULT_LIMIT) -> bool:
    """Let malloc keep freed blocks below `limit` bytes for reuse (see the module's docstring); True
    when glibc took the setting, False where it cannot apply or BRAINLIKE_MALLOC=system."""
    if os.environ.get(ENV, "").strip().lower() == "system":
        return False
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, int(limit))) and bool(libc.mallopt(_M_TRIM_THRESHOLD, int(limit)))
