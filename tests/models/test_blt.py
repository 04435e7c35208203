"""BLT-VS computes what the original computes, with the original keys, in both unrolling schemes."""

import pytest
import torch

from brainlike import create_model, record
from brainlike.errors import BrainlikeError
from brainlike.labels import class_names
from brainlike.weights import cached_path
from tests.reference import fill_deterministic, reference, reference_input, relative_error, subsample

VARIANTS = ["blt_vs_imagenet", "blt_vs_ecoset", "blt_vs_imagenet_128", "blt_vs_ecoset_128"]
PARAMS = {
    "blt_vs_imagenet": 34_989_732,
    "blt_vs_ecoset": 27_332_427,
    "blt_vs_imagenet_128": 16_439_716,
    "blt_vs_ecoset_128": 13_682_251,
}
TOLERANCE = 1e-4


def _check_taps(recorded, ref):
    assert set(recorded) == set(ref["taps"])
    for key, steps in recorded.items():
        expected = ref["taps"][key]
        assert len(steps) == len(expected), key
        for t, (ours, theirs) in enumerate(zip(steps, expected)):
            assert tuple(ours.shape) == tuple(ref["tap_shapes"][key][t]), (key, t)
            if theirs.abs().max() == 0:
                assert ours.abs().max() == 0, (key, t)
            else:
                assert relative_error(subsample(ours), theirs) < TOLERANCE, (key, t)


def _readouts_and_taps(model, x):
    """All readouts and every tap of one forward pass."""
    taps, handles = {}, []
    modules = dict(model.named_modules())
    for area in model.card.areas:
        for stream, path in area.taps.items():
            key = f"{area.name}.{stream}"
            taps[key] = []
            handles.append(
                modules[path].register_forward_hook(lambda _m, _i, out, key=key: taps[key].append(out.detach().clone()))
            )
    try:
        with torch.no_grad():
            logits = model.readouts(x)
    finally:
        for handle in handles:
            handle.remove()
    return logits, taps


@pytest.fixture(scope="module", params=VARIANTS)
def case(request):
    name = request.param
    return name, fill_deterministic(create_model(name)).eval(), reference(name)


def test_keys_shapes_and_param_count(case):
    name, model, ref = case
    ours = {k: (tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items()}
    theirs = {k: (tuple(shape), dtype) for k, shape, dtype in ref["keys"]}
    assert ours == theirs and len(ours) == 106
    assert sum(p.numel() for p in model.parameters()) == PARAMS[name] == ref["param_count"]


@pytest.mark.slow
def test_every_readout_and_both_streams_of_every_step_match_the_original(case):
    name, model, ref = case
    x = reference_input(ref["input_size"])
    logits, taps = _readouts_and_taps(model, x)
    assert len(logits) == len(ref["logits"]) == model.card.readout_steps
    for ours, theirs in zip(logits, ref["logits"]):
        assert relative_error(ours, theirs) < TOLERANCE
    _check_taps(taps, ref)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["blt_vs_imagenet_128", "blt_vs_ecoset_128"])
def test_the_original_schedule_without_reuse_matches_too(name):
    ref = reference(name)
    model = fill_deterministic(create_model(name, reuse=False)).eval()
    logits, taps = _readouts_and_taps(model, reference_input(128))
    assert all(relative_error(a, b) < TOLERANCE for a, b in zip(logits, ref["logits"]))
    _check_taps(taps, ref)


@pytest.fixture(scope="module")
def ecoset_128():
    """The Ecoset configuration at 128 px, unrolled for 6 steps (readouts at steps 4 and 5)."""
    return fill_deterministic(create_model("blt_vs_ecoset_128", timesteps=6)).eval()


def test_arrival_steps_under_biological_unrolling(ecoset_128):
    card = create_model("blt_vs_ecoset_128").card
    first = {a.name: len(a.silent_steps) for a in card.areas}
    assert first == {"Retina": 0, "LGN": 1, "V1": 2, "V2": 3, "V3": 4, "V4": 3, "LOC": 4}
    assert card.readout_steps == 8 and ecoset_128.readout_steps == (4, 5)
    recorded = record(ecoset_128, torch.randn(2, 3, 128, 128), stream="all", steps=range(5))
    for area in ecoset_128.card.areas:
        for t in range(5):
            bu = recorded[f"{area.name}.bu"][t]
            if t in area.silent_steps:
                assert bu.abs().max() == 0 and recorded[f"{area.name}.td"][t].abs().max() == 0
            else:
                assert not torch.equal(bu[0], bu[1]), (area.name, t)  # depends on the image
    assert all(step.abs().max() == 0 for step in recorded["Retina.td"])


def test_sweep_mode_reaches_every_area_at_step_zero():
    card = create_model("blt_vs_imagenet_128").card
    assert all(a.silent_steps == () for a in card.areas) and card.readout_steps == 6
    assert all(a.steps == 6 and a.streams == ("bu", "td") for a in card.areas)


# Each connection kind switched off once, across both unrolling modes (the full product costs minutes).
@pytest.mark.parametrize(
    "bio_unroll, options",
    [
        (False, dict(lateral_connections=False)),
        (True, dict(topdown_connections=False)),
        (True, dict(skip_connections=False)),
        (False, dict(fix_td_skip_bug=True)),
    ],
)
def test_reuse_changes_no_output_for_any_connection_set(bio_unroll, options):
    steps = 6 if bio_unroll else 2
    if bio_unroll and not options.get("skip_connections", True):
        steps = 7  # without the V1->V4 skip, LOC is reached at step 6
    config = dict(timesteps=steps, bio_unroll=bio_unroll, **options)
    fast = fill_deterministic(create_model("blt_vs_imagenet_128", **config)).eval()
    slow = fill_deterministic(create_model("blt_vs_imagenet_128", reuse=False, **config)).eval()
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        pairs = list(zip(fast.readouts(x), slow.readouts(x)))
    assert len(pairs) == fast.card.readout_steps
    assert all(relative_error(a, b) < 1e-5 for a, b in pairs)


@pytest.mark.slow
def test_td_skip_is_unused_in_sweep_mode_unless_fixed():
    x = torch.randn(1, 3, 128, 128)
    outputs = {}
    for fixed in (False, True):
        model = fill_deterministic(create_model("blt_vs_imagenet_128", timesteps=2, fix_td_skip_bug=fixed)).eval()
        with torch.no_grad():
            before = model(x)
            model.connections.V1.skip_td_pointwise.weight.mul_(3)
            outputs[fixed] = (before, model(x))
    assert torch.equal(*outputs[False])
    assert not torch.allclose(*outputs[True])


@pytest.mark.parametrize("bio_unroll, expected", [(True, 2), (False, 3)])
def test_single_readout_is_the_softmax_weighted_sum(bio_unroll, expected):
    steps = 6 if bio_unroll else 3
    single = fill_deterministic(
        create_model("blt_vs_ecoset_128", timesteps=steps, bio_unroll=bio_unroll, readout_type="single")
    ).eval()
    assert single.readout_weights.shape == (expected,) and len(single.state_dict()) == 107
    with torch.no_grad():
        single.readout_weights.copy_(torch.tensor([0.5, -1.0, 2.0][:expected]))
    multi = create_model("blt_vs_ecoset_128", timesteps=steps, bio_unroll=bio_unroll).eval()
    multi.load_state_dict({k: v for k, v in single.state_dict().items() if k != "readout_weights"})
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        (combined,) = single.readouts(x)
        expected_logits = sum(w * out for w, out in zip(single.readout_weights.softmax(0), multi.readouts(x)))
    assert single.card.readout_steps == 1
    assert relative_error(combined, expected_logits) < 1e-6


def test_published_weights_resolve_to_the_hub_files():
    for name, tag, file in [
        ("blt_vs_imagenet", "imagenet", "biounroll_0_t_6_readout_multi_dataset_imagenet"),
        ("blt_vs_ecoset", "ecoset", "biounroll_1_t_12_readout_multi_dataset_ecoset"),
    ]:
        spec = create_model.__globals__["model_card"](name).weights[tag]
        assert spec.url.startswith("https://huggingface.co/novelmartis/blt_vs_model/resolve/main/")
        assert file in spec.url and cached_path(spec).name == spec.url.rsplit("/", 1)[-1]


@pytest.mark.slow
def test_a_local_checkpoint_in_the_published_format_loads_strictly(ecoset_128, tmp_path):
    path = tmp_path / "blt_vs_slt_111_biounroll_1_t_12_readout_multi_dataset_ecoset_num_1.pth"
    torch.save(ecoset_128.state_dict(), path)  # the release format: a plain state_dict
    loaded = create_model("blt_vs_ecoset_128", pretrained=str(path), timesteps=6).eval()
    for key, value in ecoset_128.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        assert torch.equal(loaded(x), ecoset_128.readouts(x)[-1])  # forward is the last readout
    with pytest.raises(BrainlikeError, match="shape mismatches"):
        create_model("blt_vs_imagenet_128", pretrained=str(path))


def test_ecoset_models_name_their_classes():
    names = class_names("ecoset")
    assert len(names) == 565 and names[0] == "man" and names[-1] == "hovercraft"
    assert create_model("blt_vs_ecoset_128").card.labels == "ecoset"


def test_bad_configurations_and_inputs_are_refused(ecoset_128):
    with pytest.raises(BrainlikeError, match="224 or 128"):
        create_model("blt_vs_ecoset", image_size=160)
    with pytest.raises(BrainlikeError, match="at least 5"):
        create_model("blt_vs_ecoset_128", timesteps=4)
    with pytest.raises(BrainlikeError, match="128x128"):
        ecoset_128(torch.randn(1, 3, 224, 224))
    with pytest.raises(BrainlikeError, match="precision"):
        create_model("blt_vs_ecoset_128", precision="fp8")
