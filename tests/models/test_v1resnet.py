"""V1-constrained ResNet-50s: published keys and sizes, variant a equals the Brain-Score original."""

import pytest
import torch

from brainlike import create_model, list_models, record
from brainlike.errors import BrainlikeError
from tests.reference import fill_deterministic, reference, reference_input, relative_error, subsample

# (total params, trainable params, state_dict keys) of the originals.
SIZES = {
    "v1resnet50_a": (35_156_346, 34_959_656, 338),
    "v1resnet50_b": (35_154_728, 34_958_120, 328),
    "v1resnet50_c": (34_958_970, 34_958_888, 332),
    "v1resnet50_d": (35_156_346, 34_959_656, 338),
    "v1resnet50_e": (25_754_408, 25_557_800, 328),
    "v1resnet50_f": (34_957_352, 34_957_352, 322),
    "v1resnet50_g": (35_154_728, 34_958_120, 328),
    "resnet50_64px": (25_557_032, 25_557_032, 320),
}


def test_every_variant_is_registered():
    assert set(list_models("v1resnet50_*")) | {"resnet50_64px"} == set(SIZES)


@pytest.fixture(scope="module", params=sorted(SIZES))
def built(request):
    return request.param, create_model(request.param)


def test_sizes_match_the_originals(built):
    name, model = built
    total, trainable, keys = SIZES[name]
    assert sum(p.numel() for p in model.parameters()) == total
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == trainable
    assert len(model.state_dict()) == keys


def test_card(built):
    # Forward and backward of every registered model run in tests/test_registry.py.
    name, model = built
    card = model.card
    assert card.input_size == 64 and card.visual_degrees == 8 and card.preprocessing == "half"
    assert card.area_names == ("V1", "V2", "V4", "IT") and card.area("V1").tap == "V1"


@pytest.mark.slow
def test_published_checkpoint_format_round_trips(built, tmp_path):
    name, model = built
    # Brain-Score's file is a plain state_dict; the paper's training checkpoints nest it under "model".
    path = tmp_path / "checkpoint.pt"
    state = model.state_dict()
    torch.save(state if name == "v1resnet50_a" else {"model": state, "current_epoch": 99}, path)
    loaded = create_model(name, pretrained=str(path)).state_dict()
    assert loaded.keys() == state.keys()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())


@pytest.mark.slow
def test_variant_a_matches_the_brainscore_original():
    ref = reference("pogoncheff_v1_a")
    model = create_model("v1resnet50_a", radius_pad=True)
    ours = {k: (tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items()}
    assert ours == {k: (tuple(shape), dtype) for k, shape, dtype in ref["keys"]}
    fill_deterministic(model, keep=tuple(ref["fixed_keys_kept_original"])).eval()
    x = reference_input(64)
    with torch.no_grad():
        assert relative_error(model(x), ref["logits"][0]) < 1e-4
    v1 = record(model, x, areas=["V1"])["V1"][0]
    assert relative_error(subsample(v1), ref["taps"]["layer1"][0]) < 1e-4
    # The paper code does not pad the polar map's radius axis: a different function.
    model.lpp.radius_pad = False
    with torch.no_grad():
        assert relative_error(model(x), ref["logits"][0]) > 1e-3


def test_brainscore_weights_imply_the_packaging_configuration():
    card = create_model("v1resnet50_a").card
    spec = card.weights["brainscore"]
    assert spec.config == {"radius_pad": True, "polar_antialias": True}
    assert card.area("V1").tap == "V1" and card.region_map() == {"V1": "V1"}


def test_local_and_polar_variants_refuse_other_input_sizes(built):
    name, model = built
    if name in ("resnet50_64px",):
        assert model.eval()(torch.randn(1, 3, 96, 96)).shape == (1, 1000)
        return
    with pytest.raises(BrainlikeError):
        model.eval()(torch.randn(1, 3, 96, 96))


@pytest.mark.slow
def test_variants_do_not_interact():
    first = create_model("v1resnet50_d")
    create_model("v1resnet50_e")
    again = create_model("v1resnet50_d")
    assert not first.polar and not again.polar
    assert len(first.state_dict()) == len(again.state_dict())
