"""keep_freed_memory(): freed large blocks stay in the process for reuse (glibc), or nothing changes."""

import os
import subprocess
import sys
import textwrap

import pytest

from brainlike.runtime.allocator import _glibc

# Allocates and touches a 256 MB block, frees it, and prints the resident memory (MB) before and after.
PROBE = textwrap.dedent(
    """
    import ctypes, sys
    from brainlike.runtime.allocator import keep_freed_memory
    kept = keep_freed_memory()
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    def resident_mb():
        return int(open("/proc/self/statm").read().split()[1]) * 4096 // 2**20
    size = 256 * 2**20
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)
    held = resident_mb()
    libc.free(ctypes.c_void_p(block))
    print(kept, held, resident_mb())
    """
)


def _probe(**env) -> tuple[bool, int, int]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    kept, held, after = done.stdout.split()
    return kept == "True", int(held), int(after)


@pytest.mark.skipif(_glibc() is None, reason="glibc's malloc only")
def test_a_freed_large_block_stays_resident_for_reuse():
    kept, held, after = _probe()
    assert kept and after > held - 64  # the 256 MB are still mapped, ready for the next activation


@pytest.mark.skipif(_glibc() is None, reason="glibc's malloc only")
def test_brainlike_malloc_system_leaves_malloc_as_it_is():
    kept, held, after = _probe(BRAINLIKE_MALLOC="system")
    assert not kept and after < held - 192  # glibc unmapped the block at once


def test_the_command_turns_it_on_for_its_own_process(monkeypatch, capsys):
    from brainlike.cli import main
    from brainlike.runtime import allocator

    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(True) or True)
    assert main(["models"]) == 0 and calls == [True]
    assert main(["--version"]) == 0 and calls == [True]  # --help and --version stop before it (no torch)
