"""The choice between the equivalent convolution routes."""

from brainlike.kernels.dispatch import worth_it


def test_fft_is_chosen_only_for_kernels_much_larger_than_the_stride():
    assert worth_it(25, 4) and worth_it(7, 1)
    assert not worth_it(7, 4) and not worth_it(3, 1) and not worth_it(5, 1)
