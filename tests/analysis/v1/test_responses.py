"""Batching of the V1 panel: sized to the area, and without effect on the responses."""

import pytest
import torch

from brainlike.analysis.v1.responses import MAX_BATCH, AreaRecorder, default_batch_size
from brainlike.data.stimuli import orientation_set


def test_wide_areas_get_small_batches():
    assert default_batch_size(512 * 56 * 56) == 8  # VOne block: 6.4 MB per image, 10 rounded down to 8
    assert default_batch_size(64 * 56 * 56) == MAX_BATCH  # CORnet-S V1
    assert default_batch_size(10**9) == 1


@pytest.mark.slow
def test_responses_do_not_depend_on_the_batch_size(model):
    auto = AreaRecorder(model, "V1")
    blank = auto.blank()
    assert auto.batch_size == default_batch_size(blank.numel())
    stimuli = orientation_set()
    units = torch.arange(0, blank.numel(), 7)
    fixed = AreaRecorder(model, "V1", batch_size=5)
    expected = fixed.responses(stimuli, units)
    torch.testing.assert_close(
        torch.from_numpy(auto.responses(stimuli, units)), torch.from_numpy(expected), rtol=1e-4, atol=1e-5
    )  # convolution blocking differs with the batch size
    assert fixed.timings.batches == -(-len(stimuli) // 5)
