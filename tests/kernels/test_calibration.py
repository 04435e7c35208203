"""Fast paths chosen by measurement on the running machine, and forced on or off by the environment."""

import time

import pytest
import torch
import torch.nn.functional as F

from brainlike.errors import BrainlikeError
from brainlike.kernels import calibration
from brainlike.kernels.grouped import GroupedConv2d
from brainlike.kernels.winograd import SharedKernel3x3


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.delenv(calibration.ENV, raising=False)
    calibration.forget()
    yield
    calibration.forget()


def routes(seconds: dict[str, float], calls: dict[str, int]):
    def route(name):
        def run():
            calls[name] = calls.get(name, 0) + 1
            time.sleep(seconds[name])

        return run

    return {name: route(name) for name in seconds}


def test_the_faster_route_is_measured_once_and_kept():
    calls = {}
    fast = routes({"direct": 0.004, "fast": 0.0005}, calls)
    assert calibration.choose("p", (1,), fast, rule="direct") == "fast"
    measured = dict(calls)
    assert calibration.choose("p", (1,), fast, rule="direct") == "fast"
    assert calls == measured == {"direct": calibration.ROUNDS + 1, "fast": calibration.ROUNDS + 1}
    (decision,) = calibration.decisions()
    assert decision.chosen == "fast" and decision.seconds["fast"] < decision.seconds["direct"]


def test_a_slower_fast_path_is_not_taken_even_where_the_shape_rule_would():
    slow = routes({"direct": 0.001, "fast": 0.004}, {})
    assert calibration.choose("p", (2,), slow, rule="fast") == "direct"


def test_the_environment_forces_the_rule_or_the_direct_route(monkeypatch):
    calls = {}
    fast = routes({"direct": 0.0, "fast": 0.0}, calls)
    monkeypatch.setenv(calibration.ENV, "off")
    assert calibration.choose("p", (1,), fast, rule="fast") == "direct"
    monkeypatch.setenv(calibration.ENV, "on")
    assert calibration.choose("p", (1,), fast, rule="fast") == "fast"
    assert calls == {} and calibration.decisions() == []
    monkeypatch.setenv(calibration.ENV, "sometimes")
    with pytest.raises(BrainlikeError, match="BRAINLIKE_FAST_PATHS must be one of auto, on, off"):
        calibration.choose("p", (1,), fast, rule="fast")


def test_batch_sizes_share_a_class_up_to_the_next_power_of_two():
    assert [calibration.batch_class(n) for n in (1, 2, 3, 4, 5, 8, 9)] == [1, 2, 4, 4, 8, 8, 16]


@pytest.mark.parametrize("mode", ["auto", "on", "off"])
def test_every_mode_computes_the_direct_convolution(monkeypatch, mode):
    monkeypatch.setenv(calibration.ENV, mode)
    torch.manual_seed(0)
    x, weight = torch.randn(2, 256, 14, 14), torch.randn(256, 256, 3, 3) / 48
    with torch.no_grad():
        ours = SharedKernel3x3(weight, calls=3)(x)
    direct = F.conv2d(x, weight, padding=1)
    assert float((ours - direct).abs().max() / direct.abs().max()) < 1e-5
    if mode == "off":
        assert torch.equal(ours, direct)
    gabor = torch.zeros(12, 3, 9, 9)
    for out in range(12):  # each kernel reads one colour, as in the VOne block
        gabor[out, out % 3] = torch.randn(9, 9)
    image = torch.rand(2, 3, 40, 40)
    grouped = GroupedConv2d()(image, gabor, stride=2, padding=4)
    assert torch.allclose(grouped, F.conv2d(image, gabor, stride=2, padding=4), atol=1e-4)


def test_forced_mode_overrides_the_environment_inside_its_block(monkeypatch):
    monkeypatch.setenv(calibration.ENV, "on")
    fast = routes({"direct": 0.0, "fast": 0.0}, {})
    with calibration.forced("off"):
        assert calibration.choose("p", (1,), fast, rule="fast") == "direct"
    assert calibration.choose("p", (1,), fast, rule="fast") == "fast"


def test_flops_are_counted_on_the_direct_algorithm(monkeypatch):
    from brainlike import create_model
    from brainlike.analysis.stats import count_flops

    model = create_model("vonenet_alexnet")  # its VOne block takes the frequency domain under "on"
    x = torch.zeros(1, 3, 224, 224)
    counts = []
    for mode in ("off", "on"):
        monkeypatch.setenv(calibration.ENV, mode)
        counts.append(count_flops(model, x)[0])
    assert counts[0] == counts[1]
