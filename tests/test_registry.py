"""Every registered model obeys the same small interface; tested for free when a model is added."""

import pytest
import torch

from brainlike import BrainlikeError, create_model, list_models, model_card, record
from brainlike.recording import layer_name
from brainlike.transforms import PRESETS

# Running these at full size costs minutes (BLT-VS: 185-250 GFLOP per image; calc_ventral: 654 M
# parameters), so here they are built on the meta device for the card checks only; their family tests
# run them (tests/models/test_blt.py; calc_ventral's forward is not run in the suite).
HEAVY = {name for name in list_models() if name.startswith("blt_vs") or name == "calc_ventral"}
# Models that take any input size run at this size here; their family tests cover the published size.
SMALL_INPUT = {name: 64 for name in list_models("vonenet_*")}


@pytest.fixture(scope="module", params=list_models())
def built(request):
    if request.param in HEAVY:
        with torch.device("meta"):
            return create_model(request.param)
    return create_model(request.param)


def _size(card) -> int:
    return SMALL_INPUT.get(card.name, card.input_size)


def test_card_is_complete(built):
    card = built.card
    modules = dict(built.named_modules())
    assert card.family and card.citation and card.areas and card.input_size > 0 and card.visual_degrees > 0
    assert card.preprocessing in PRESETS
    assert card.readout_steps >= 1
    for area in card.areas:
        assert area.steps >= 1
        assert set(area.silent_steps) <= set(range(area.steps))
        for path in area.taps.values():
            assert isinstance(modules[path], torch.nn.Identity), path
    for tag, spec in card.weights.items():
        assert spec.url, tag
        if spec.sha256 is not None:  # published files without a known digest are loaded unverified
            int(spec.sha256, 16)


def test_record_calls_each_tap_once_per_step(built):
    card = built.card
    if card.name in HEAVY:
        pytest.skip("covered by its family's tests")
    x = torch.randn(1, 3, _size(card), _size(card))
    recorded = record(built, x, stream="all")
    for area in card.areas:
        keys = [area.name] if len(area.streams) == 1 else [f"{area.name}.{s}" for s in area.streams]
        for key in keys:
            assert len(recorded[key]) == area.steps, key


@pytest.mark.slow
def test_forward_and_backward_shapes(built):
    card = built.card
    if card.name in HEAVY:
        pytest.skip("covered by its family's tests")
    built.train()
    x = torch.randn(2, 3, _size(card), _size(card))
    logits = built(x)
    assert logits.shape == (2, card.num_classes)
    logits.sum().backward()
    assert all(p.grad is not None for p in built.parameters() if p.requires_grad)
    built.zero_grad(set_to_none=True)
    built.eval()
    with torch.no_grad():
        torch.manual_seed(0)  # models with stochastic units (VOneNet noise) draw the same noise twice
        readouts = built.readouts(x)
        torch.manual_seed(0)
        last = built(x)
    assert len(readouts) == card.readout_steps and torch.allclose(readouts[-1], last, atol=1e-5)


def test_unknown_model_suggests_close_names():
    with pytest.raises(BrainlikeError, match="unknown model 'cornet_ss'; did you mean cornet_s"):
        create_model("cornet_ss")


def test_bad_constructor_argument_is_a_clear_error():
    with pytest.raises(BrainlikeError, match="cornet_z: .*unexpected keyword argument 'times'"):
        create_model("cornet_z", times=3)


def test_list_models_filters_with_a_pattern():
    assert list_models("cornet_r*") == ["cornet_r", "cornet_rt"]
    assert set(list_models("cornet*")) == {"cornet_z", "cornet_r", "cornet_rt", "cornet_s"}


def test_cards_reflect_constructor_arguments():
    assert [a.steps for a in model_card("cornet_rt", times=7).areas] == [7, 7, 7, 7]
    assert model_card("cornet_rt", times=7).area("IT").silent_steps == (0, 1, 2)


def test_two_variants_in_one_process_do_not_interact():
    a, b = create_model("cornet_r", times=2), create_model("cornet_r", times=4)
    x = torch.randn(1, 3, 64, 64)
    assert len(record(a, x)["V1"]) == 2 and len(record(b, x)["V1"]) == 4


def test_cornet_s_time_bins_follow_brain_score():
    card = model_card("cornet_s")
    assert card.area("V4").time_bins == ((90, 140), (140, 190), (190, 240), (240, 290))
    assert card.area("IT").time_bins == ((100, 200), (200, 300))
    assert layer_name("V4", 3) == "V4.output-t3"
    assert card.region_map() == {"V1": "V1", "V2": "V2", "V4": "V4", "IT": "IT"}


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_the_card_describes_the_head_that_was_built(name):
    with torch.device("meta" if name in HEAVY else "cpu"), torch.no_grad():
        model = create_model(name, num_classes=7).eval()
        size = _size(model.card)
        logits = model(torch.zeros(1, 3, size, size))
    assert model.card.num_classes == 7 == logits.shape[-1]
    assert model.card == model_card(name, num_classes=7)


def test_a_front_end_card_is_the_card_of_the_model_built_with_it():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    card = model_card("cornet_z", frontend="vone")  # builds once, leaving the global RNG alone
    assert torch.equal(torch.rand(3), expected)
    model = create_model("cornet_z", frontend="vone")
    assert model.card == card and card != model_card("cornet_z")
    assert card.area("V1").taps == {"output": "V1.vone_block.output"} and card.preprocessing == "half"
    assert card.config == {"frontend": "vone"} and card.weights == {}


def _front_end(name):
    """(card of the model built with frontend="vone", None) or (None, the error message)."""
    try:
        return create_model(name, frontend="vone").card, None
    except BrainlikeError as error:
        return None, str(error)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in list_models() if n not in HEAVY])
def test_every_front_end_card_matches_the_built_model(name):
    built_card, refused = _front_end(name)
    if refused is not None:  # a model whose V1 cannot take a VOne block: the card says so in the same words
        with pytest.raises(BrainlikeError) as error:
            model_card(name, frontend="vone")
        assert str(error.value) == refused
        return
    assert model_card(name, frontend="vone") == built_card
