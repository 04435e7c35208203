"""VOneNets compute what the originals compute, load the official checkpoint format, and the VOne
front end fits in front of other backbones."""

import pytest
import torch

from brainlike import create_model, record
from brainlike.errors import BrainlikeError
from tests.reference import (
    deterministic_value,
    fill_deterministic,
    reference,
    reference_input,
    relative_error,
    subsample,
)

ARCHS = ["resnet50", "alexnet", "cornets"]
PARAMS = {"resnet50": (27_500_264, 317), "alexnet": (76_661_800, 17), "cornets": (55_322_856, 155)}
TOLERANCE = 1e-4


@pytest.fixture(scope="module", params=ARCHS)
def built(request):
    return request.param, create_model(f"vonenet_{request.param}")


@pytest.fixture(scope="module")
def front_end_reference():
    """The VOne block and bottleneck outputs at 224 px (deterministic weights), shared by every back-end."""
    model = fill_deterministic(create_model("vonenet_alexnet", noise_mode=None)).eval()
    with torch.no_grad():
        v1 = model.vone_block(reference_input(224))
        return v1, model.bottleneck(v1)


def test_keys_and_parameter_counts(built):
    arch, model = built
    ref = reference(f"vonenet_{arch}")
    ours = {k: (tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items()}
    assert ours == {k: (tuple(shape), dtype) for k, shape, dtype in ref["keys"]}
    assert sum(p.numel() for p in model.parameters()) == PARAMS[arch][0] == ref["param_count"]
    assert len(ours) == PARAMS[arch][1]
    assert sum(p.numel() for p in model.vone_block.parameters() if not p.requires_grad) == 1_920_000


@pytest.mark.slow
def test_outputs_match_the_original(built, front_end_reference):
    arch, model = built
    ref = reference(f"vonenet_{arch}")
    v1, bottleneck = front_end_reference
    assert relative_error(subsample(v1), ref["taps"]["vone_block"][0]) < TOLERANCE
    assert relative_error(subsample(bottleneck), ref["taps"]["bottleneck"][0]) < TOLERANCE
    backend = fill_deterministic(create_model(f"vonenet_{arch}")).model.eval()
    with torch.no_grad():
        assert relative_error(backend(bottleneck), ref["logits"][0]) < TOLERANCE


def test_noise_is_on_by_default_and_can_be_switched_off_or_fixed(built):
    arch, model = built
    block = model.vone_block
    assert block.noise_mode == "neuronal"
    x = torch.randn(1, 3, 32, 32)
    assert not torch.equal(block(x), block(x))
    block.fix_noise(7)
    assert torch.equal(block(x), block(x))
    block.unfix_noise()
    block.set_noise(None)
    assert torch.equal(block(x), block(x))
    block.set_noise("neuronal")


def test_areas_at_a_smaller_input(built):
    # Forward and backward at 224 px of every registered model run in tests/test_registry.py.
    arch, model = built
    x = torch.randn(2, 3, 64, 64)
    card = model.card
    assert card.area_names == ("V1", "V2", "V4", "IT") and card.area("V1").tap == "vone_block.output"
    assert card.visual_degrees == 8 and card.preprocessing == "half"
    recorded = record(model.eval(), x, areas=["V1"])
    assert recorded["V1"][0].shape == (2, 512, 16, 16)


def _official(model, flags, *, prefix="module.", extra=()):
    state = {prefix + k: v for k, v in model.state_dict().items()}
    state.update({prefix + k: torch.zeros(3) for k in extra})
    return {"flags": flags, "state_dict": state, "epoch": 70}


@pytest.mark.slow
def test_official_checkpoint_round_trip_applies_its_flags(built, tmp_path):
    arch, model = built
    flags = {
        "arch": arch.replace("resnet", "resnet_"),
        "stride": 4,
        "simple_channels": 256,
        "complex_channels": 256,
        "k_exc": 20.0,
        "noise_mode": None,
        "noise_scale": 1.0,
        "noise_level": 1.0,
    }
    path = tmp_path / f"vone{arch}_e70.pth.tar"
    torch.save(_official(model, flags), path)
    loaded = create_model(f"vonenet_{arch}", pretrained=str(path))
    assert loaded.vone_block.k_exc == 20.0 and loaded.vone_block.noise_mode is None
    assert loaded.vone_block.gabor_params is None
    state = model.state_dict()
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in state.items())


def test_explicit_arguments_meet_the_checkpoint_flags():
    model = create_model("vonenet_resnet50", noise_mode="gaussian", k_exc=25.0)
    state = model.state_dict()
    model.adapt_checkpoint(state, {"flags": {"arch": "resnet_50", "noise_mode": None, "noise_level": 1.0}})
    assert model.vone_block.noise_mode == "gaussian" and model.vone_block.noise_level == 1.0
    with pytest.raises(BrainlikeError, match="k_exc"):
        model.adapt_checkpoint(state, {"flags": {"k_exc": 20.0}})
    with pytest.raises(BrainlikeError, match="back-end"):
        model.adapt_checkpoint(state, {"flags": {"arch": "alexnet"}})
    with pytest.raises(BrainlikeError, match="channels"):
        model.adapt_checkpoint(state, {"flags": {"simple_channels": 128, "complex_channels": 128}})


def test_adversarially_trained_format_loads():
    model = create_model("vonenet_resnet50")
    state = _official(
        model, {"arch": "resnet50"}, prefix="", extra=("vone_block.div_u.weight", "vone_block.div_t.weight")
    )["state_dict"]
    kept = model.adapt_checkpoint(state, {})
    assert set(kept) == set(model.state_dict())


def test_published_weights_are_listed():
    card = create_model("vonenet_resnet50").card
    assert set(card.weights) == {"imagenet", "imagenet_at", "imagenet_ns"}
    assert card.weights["imagenet"].url.endswith("/voneresnet50_e70.pth.tar")
    assert card.weights["imagenet_ns"].config == {"noise_mode": None}


@pytest.mark.slow
def test_frontend_turns_cornet_s_into_vonecornet_s():
    wrapped = create_model("cornet_s", frontend="vone")
    original = create_model("vonenet_cornets", noise_mode=None)

    def original_key(key):
        return key[len("V1.") :] if key.startswith("V1.") else f"model.{key}"

    wrapped_state = wrapped.state_dict()
    assert {original_key(k) for k in wrapped_state} == set(original.state_dict())
    wrapped.load_state_dict(
        {k: deterministic_value(original_key(k), v.shape, v.dtype) for k, v in wrapped_state.items()}
    )
    fill_deterministic(original)
    wrapped.V1.vone_block.set_noise(None)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(wrapped.eval()(x), original.eval()(x))
    card = wrapped.card
    assert card.area("V1").tap == "V1.vone_block.output" and card.area("V1").steps == 1
    assert card.visual_degrees == 8 and card.weights == {} and card.config["frontend"] == "vone"
    assert record(wrapped, x, areas=["V1"])["V1"][0].shape == (1, 512, 16, 16)


def test_frontend_errors():
    with pytest.raises(BrainlikeError, match="feed-forward"):
        create_model("cornet_r", frontend="vone")
    with pytest.raises(BrainlikeError, match="front end"):
        create_model("cornet_z", frontend="retina")


def test_attach_vone_to_a_wrapped_model_replaces_the_module_its_v1_reads():
    import torch.nn as nn

    from brainlike import wrap
    from brainlike.models.vone_frontend import attach_vone

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.retina = nn.Sequential(nn.Conv2d(3, 8, 7, stride=4, padding=3), nn.ReLU())
            self.it = nn.Conv2d(8, 16, 3, stride=2, padding=1)
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))

        def forward(self, x):
            return self.head(self.it(self.retina(x)))

    model = wrap(Tiny(), name="tiny", areas={"V1": "retina", "IT": "it"}, input_size=64)
    it_weight = model.it.weight.clone()
    attach_vone(model, simple_channels=4, complex_channels=4)
    assert [a.tap for a in model.card.areas] == ["retina.vone_block.output", "taps.IT"]
    assert "V1" not in model.taps and torch.equal(model.it.weight, it_weight)
    x = torch.rand(2, 3, 64, 64)
    recorded = record(model, x)
    assert recorded["V1"][0].shape == (2, 8, 16, 16) and recorded["IT"][0].shape == (2, 16, 8, 8)


def test_attach_vone_refuses_a_v1_that_does_not_take_the_image():
    from brainlike.models.vone_frontend import attach_vone

    with pytest.raises(BrainlikeError, match=r"V1 \('layer1'\) does not take the image as its input"):
        attach_vone(create_model("torchvision:resnet18"))
    with pytest.raises(BrainlikeError, match=r"V1 \('connections'\) is not a feed-forward module"):
        attach_vone(create_model("blt_vs_imagenet"))
