"""record(): per-area, per-step activations through the taps."""

import pytest
import torch

from brainlike import BrainlikeError, create_model, record


@pytest.fixture(scope="module")
def cornet_s():
    return create_model("cornet_s").eval()


def test_cornet_s_call_counts(cornet_s):
    recorded = record(cornet_s, torch.randn(1, 3, 64, 64))
    assert {a: len(v) for a, v in recorded.items()} == {"V1": 1, "V2": 2, "V4": 4, "IT": 2}


def test_recorded_activation_is_the_tap_output(cornet_s):
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        v1 = cornet_s.V1(x)
        v2 = cornet_s.V2(v1)
    recorded = record(cornet_s, x, areas=["V1", "V2"])
    assert torch.equal(recorded["V1"][0], v1) and torch.equal(recorded["V2"][-1], v2)


def test_step_selection_with_negative_indices(cornet_s):
    x = torch.randn(1, 3, 64, 64)
    full = record(cornet_s, x, areas=["V4"])["V4"]
    chosen = record(cornet_s, x, areas=["V4"], steps=[0, -1])["V4"]
    assert len(chosen) == 2 and torch.equal(chosen[0], full[0]) and torch.equal(chosen[1], full[3])


def test_forward_stops_after_the_last_requested_area(cornet_s):
    calls = []
    handle = cornet_s.IT.register_forward_pre_hook(lambda *_: calls.append(1))
    try:
        record(cornet_s, torch.randn(1, 3, 64, 64), areas=["V1"])
        assert calls == []
        record(cornet_s, torch.randn(1, 3, 64, 64), areas=["V1"], full_forward=True)
        assert calls == [1]
    finally:
        handle.remove()


def test_mode_and_gradients_are_restored(cornet_s):
    cornet_s.train()
    out = record(cornet_s, torch.randn(1, 3, 64, 64), areas=["V2"])
    assert cornet_s.training and not out["V2"][0].requires_grad
    cornet_s.eval()


def test_bad_arguments_are_clear_errors(cornet_s):
    x = torch.randn(1, 3, 64, 64)
    with pytest.raises(BrainlikeError, match="no area 'V3'; its areas are V1, V2, V4, IT"):
        record(cornet_s, x, areas=["V3"])
    with pytest.raises(BrainlikeError, match=r"area V1 has steps 0..0; asked for \[3\]"):
        record(cornet_s, x, areas=["V1"], steps=[3])
    with pytest.raises(BrainlikeError, match="streams output, not 'td'"):
        record(cornet_s, x, stream="td")
    with pytest.raises(BrainlikeError, match="no model card"):
        record(torch.nn.Conv2d(3, 3, 1), x)
