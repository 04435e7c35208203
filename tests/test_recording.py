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
    fast = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        v1 = cornet_s.V1(fast)
        v2 = cornet_s.V2(v1)
        v2_standard = cornet_s.V2(cornet_s.V1(x))
    recorded = record(cornet_s, x, areas=["V1", "V2"])
    assert torch.equal(recorded["V1"][0], v1) and torch.equal(recorded["V2"][-1], v2)
    # the channels-last run differs from the standard layout by float rounding only
    torch.testing.assert_close(recorded["V2"][-1], v2_standard, rtol=1e-5, atol=1e-5 * v2_standard.abs().max().item())


def test_activations_come_back_in_the_standard_layout(cornet_s):
    recorded = record(cornet_s, torch.randn(2, 3, 64, 64))
    assert all(t.is_contiguous() for steps in recorded.values() for t in steps)
    assert recorded["V4"][0].view(2, -1).shape[1] == recorded["V4"][0][0].numel()


@pytest.mark.slow
def test_pooled_recording_equals_pooling_the_maps(cornet_s):
    x = torch.randn(2, 3, 64, 64)
    maps = record(cornet_s, x, areas=["V2", "IT"])
    for pool, reduce in (("avg", torch.mean), ("max", torch.amax)):
        pooled = record(cornet_s, x, areas=["V2", "IT"], pool=pool)
        for area in ("V2", "IT"):
            assert [t.shape for t in pooled[area]] == [t.shape[:2] for t in maps[area]]
            for got, full in zip(pooled[area], maps[area]):
                torch.testing.assert_close(got, reduce(full, dim=(2, 3)), rtol=1e-5, atol=1e-6)
    with pytest.raises(BrainlikeError, match="pool must be one of none, avg, max, not 'mean'"):
        record(cornet_s, x, pool="mean")


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


def test_layers_are_read_by_module_path_one_tensor_per_call():
    import torch.nn as nn

    from brainlike import wrap

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)

        def forward(self, x):
            return self.conv(self.conv(x)).mean(dim=(2, 3))

    model = Twice()
    x = torch.randn(2, 3, 8, 8)
    acts = record(model, x, layers=["conv"])  # no card needed for layers alone
    assert list(acts) == ["conv"] and len(acts["conv"]) == 2
    torch.testing.assert_close(acts["conv"][1], model.conv(model.conv(x)))
    wrap(model, name="twice", areas={"V1": "conv"}, input_size=8)
    both = record(model, x, areas=["V1"], layers=["conv"], pool="avg")
    assert set(both) == {"V1", "conv"} and both["conv"][0].shape == (2, 3)
    torch.testing.assert_close(both["V1"][1], both["conv"][1])


def test_unknown_layer_names_the_closest_paths():
    import torch.nn as nn

    model = nn.Sequential(nn.Conv2d(3, 3, 1), nn.Sequential(nn.ReLU(), nn.Conv2d(3, 3, 1)))
    with pytest.raises(BrainlikeError, match=r"no submodule '1.2'; closest: 1.1, 1.0"):
        record(model, torch.zeros(1, 3, 4, 4), layers=["1.2"])
