"""Standard normal noise, drawn on all CPU threads and reproducible from a seed on any device.

One CPU generator yields about 10^8 numbers a second, a cost comparable to a whole VOne block
forward pass, so on CPUs the flat tensor is cut into fixed blocks, each drawn from its own generator
by a process-wide thread pool.
"""

from __future__ import annotations

from functools import lru_cache

import torch

NOISE_BLOCK = 1 << 20
NOISE_SEED_STRIDE = 1_000_003


def standard_normal_cpu(
    shape: torch.Size, *, dtype: torch.dtype = torch.float32, seed: int | None = None
) -> torch.Tensor:
    """Standard normal samples, filled on all CPU threads.

    Block i of NOISE_BLOCK values is seeded with seed + i * NOISE_SEED_STRIDE; without a seed, the base
    seed is drawn from the global generator, so torch.manual_seed still makes runs repeat. The values
    depend on the seed and the shape only, never on the number of threads; block 0 equals torch.randn
    with that seed.
    """
    out = torch.empty(shape, dtype=dtype)
    base = int(torch.randint(0, 2**62, ())) if seed is None else seed
    blocks = out.view(-1).split(NOISE_BLOCK)
    generators = [torch.Generator().manual_seed(base + i * NOISE_SEED_STRIDE) for i in range(len(blocks))]
    fill = lambda i: blocks[i].normal_(generator=generators[i])  # noqa: E731
    if len(blocks) == 1 or torch.get_num_threads() == 1:
        for i in range(len(blocks)):
            fill(i)
    else:
        list(_noise_pool().map(fill, range(len(blocks))))
    return out


def standard_normal_like(like: torch.Tensor, *, seed: int | None = None) -> torch.Tensor:
    """Standard normal samples of like's shape, dtype and device; the same on every call with a seed."""
    if like.device.type == "cpu":
        return standard_normal_cpu(like.shape, dtype=like.dtype, seed=seed)
    if seed is None:
        return torch.randn_like(like)
    generator = torch.Generator(device=like.device).manual_seed(seed)
    return torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)


@lru_cache(maxsize=1)
def _noise_pool():
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=torch.get_num_threads(), thread_name_prefix="brainlike-noise")
