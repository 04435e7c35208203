"""B, BL, BT and BLT networks: connections as named, a readout per step, and they learn."""

import pytest
import torch

from brainlike import create_model, list_models, record
from brainlike.errors import BrainlikeError
from brainlike.models.blt_family import BLTNet

VARIANTS = [f"{c}_net_{s}" for s in (32, 64, 128) for c in ("b", "bl", "bt", "blt")]


def test_every_variant_is_registered():
    assert sorted(VARIANTS) == list_models("*_net_*")


# The 64 and 128 px variants are the same builder with more layers; test_registry runs their
# forward and backward passes.
@pytest.mark.parametrize("name", [v for v in VARIANTS if v.endswith("_32")])
def test_variant_trains_a_few_steps_with_the_loss_decreasing(name):
    torch.manual_seed(0)
    model = create_model(name)
    card = model.card
    x = torch.randn(8, 3, card.input_size, card.input_size)
    y = torch.randint(0, card.num_classes, (8,))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(4):
        readouts = model.readouts(x)
        assert len(readouts) == card.readout_steps
        loss = sum(torch.nn.functional.cross_entropy(out, y) for out in readouts) / len(readouts)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0], losses


@pytest.mark.parametrize(
    "connections, lateral, top_down",
    [("B", False, False), ("BL", True, False), ("BT", False, True), ("BLT", True, True)],
)
def test_connections_are_the_ones_named(connections, lateral, top_down):
    model = BLTNet(connections=connections, channels=(8, 16, 16), kernel_sizes=(3, 3, 3), timesteps=3)
    layers = [model.V1, model.V4, model.IT]
    assert all((layer.lateral is not None) == lateral for layer in layers)
    assert [(layer.top_down is not None) for layer in layers] == [top_down, top_down, False]


def test_recurrence_changes_later_steps_and_cumulative_readout_sums_them():
    torch.manual_seed(0)
    plain = BLTNet(connections="BLT", channels=(8, 16), kernel_sizes=(3, 3), timesteps=3).eval()
    summed = BLTNet(
        connections="BLT", channels=(8, 16), kernel_sizes=(3, 3), timesteps=3, cumulative_readout=True
    ).eval()
    summed.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 21, 21)  # odd sizes: top-down maps must still fit the layer below
    with torch.no_grad():
        steps, cumulative = plain.readouts(x), summed.readouts(x)
    assert not torch.allclose(steps[0], steps[1])
    assert torch.allclose(cumulative[2], steps[0] + steps[1] + steps[2], atol=1e-5)


def test_record_gives_one_map_per_area_and_step():
    model = create_model("blt_net_32")
    recorded = record(model, torch.randn(1, 3, 32, 32))
    assert list(recorded) == ["V1", "V4"]
    assert [len(v) for v in recorded.values()] == [4, 4]
    assert recorded["V4"][0].shape == (1, 64, 16, 16)


def test_bad_configurations_are_refused():
    with pytest.raises(BrainlikeError, match="connections"):
        BLTNet(connections="LT")
    with pytest.raises(BrainlikeError, match="area_names"):
        BLTNet(channels=(8,) * 8, kernel_sizes=(3,) * 8)
