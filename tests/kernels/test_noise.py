"""Noise drawn on all CPU threads depends on the seed and the shape only."""

import torch

from brainlike.kernels.noise import NOISE_BLOCK, standard_normal_cpu


def test_values_do_not_depend_on_the_number_of_threads():
    shape = (3, NOISE_BLOCK)  # three blocks, so the thread pool draws them
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        alone = standard_normal_cpu(shape, seed=7)
        torch.set_num_threads(2)
        pooled = standard_normal_cpu(shape, seed=7)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(alone, pooled)
    assert torch.equal(alone[0], torch.randn(NOISE_BLOCK, generator=torch.Generator().manual_seed(7)))
    assert not torch.equal(alone[0], alone[1])
