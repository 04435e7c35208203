"""Parameter counts, FLOPs and receptive fields per area."""

import pytest
import torch

from brainlike import create_model
from brainlike.analysis.stats import count_flops, model_stats, receptive_fields


def test_cornet_z_receptive_fields_match_conv_arithmetic():
    # conv7/s2 -> pool3/s2: 7 + 2*2 = 11 px; each further conv3 + pool3 at jump j adds 4j.
    fields = receptive_fields(create_model("cornet_z"), 224)
    assert {area: rf for area, (rf, _) in fields.items()} == {"V1": 11, "V2": 27, "V4": 59, "IT": 123}
    assert not any(clipped for _, clipped in fields.values())


def test_receptive_field_ignores_spatial_normalisation_but_reports_clipping():
    fields = receptive_fields(create_model("cornet_rt"), 224)
    assert fields["V1"] == (47, False)
    assert fields["IT"][1]  # reaches the image border


@pytest.mark.slow
def test_flops_of_cornet_s_match_the_published_figure():
    total, per_area = count_flops(create_model("cornet_s"), torch.zeros(1, 3, 224, 224))
    assert round(total / 1e9, 1) == 32.9
    assert sum(per_area.values()) == total


def test_model_stats_rows():
    stats = model_stats(create_model("cornet_z"), 96)
    assert stats.params == 2_071_656
    assert [(a.area, a.shape) for a in stats.areas] == [
        ("V1", (64, 24, 24)),
        ("V2", (128, 12, 12)),
        ("V4", (256, 6, 6)),
        ("IT", (512, 3, 3)),
    ]
    assert stats.areas[0].rf_degrees == 11 * 8 / 96


def test_areas_of_a_wrapped_model_count_the_flops_since_the_previous_area():
    """A wrapped model's taps are identities beside the model; an area's FLOPs are those spent after the
    previous area's output, so that AlexNet's V1 (a pooling layer after conv1) is not free."""
    import torchvision

    from brainlike import wrap
    from brainlike.analysis.stats import module_flops

    x = torch.zeros(1, 3, 64, 64)
    total, per_module = module_flops(torchvision.models.resnet18(), x)
    resnet_modules = per_module
    model = wrap(torchvision.models.resnet18(), name="r18", areas={"V1": "layer1", "IT": "layer4"}, input_size=64)
    stats = model_stats(model)
    assert stats.flops == total
    assert {a.area: a.flops for a in stats.areas} == {
        "V1": per_module["conv1"] + per_module["layer1"],
        "IT": per_module["layer2"] + per_module["layer3"] + per_module["layer4"],
    }

    alexnet = torchvision.models.alexnet()
    _, per_module = module_flops(alexnet, torch.zeros(1, 3, 224, 224))
    areas = {"V1": "features.2", "V2": "features.7", "V4": "features.7", "IT": "features.12"}
    flops = {a.area: a.flops for a in model_stats(wrap(alexnet, name="alexnet", areas=areas)).areas}
    assert flops == {
        "V1": per_module["features.0"],
        "V2": per_module["features.3"] + per_module["features.6"],  # features.7 is the ReLU after conv 3
        "V4": 0,  # the same module as V2: nothing more is computed for it
        "IT": per_module["features.8"] + per_module["features.10"],
    }

    leaves = model_stats(wrap(torchvision.models.resnet18(), name="r18 leaves", input_size=64))
    flops = {a.area: a.flops for a in leaves.areas}
    assert flops["layer1.0.conv1"] == resnet_modules["layer1.0.conv1"] > 0
    assert flops["layer1.0.relu"] == 0  # a leaf without convolutions or matrix products, not its block
