"""CORnet-Z/R/RT/S compute what the originals compute, with the original keys."""

import pytest
import torch

from brainlike import create_model, record
from tests.reference import fill_deterministic, reference, reference_input, relative_error, subsample

CORNETS = ["cornet_z", "cornet_r", "cornet_rt", "cornet_s"]
PARAMS = {"cornet_z": 2_071_656, "cornet_r": 5_208_936, "cornet_rt": 5_208_936, "cornet_s": 53_416_616}
TOLERANCE = 1e-4


@pytest.fixture(scope="module", params=CORNETS)
def case(request):
    name = request.param
    ref = reference(name)
    model = fill_deterministic(create_model(name)).eval()
    return name, model, ref


def test_keys_shapes_and_param_count(case):
    name, model, ref = case
    ours = {k: (tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items()}
    theirs = {k: (tuple(shape), dtype) for k, shape, dtype in ref["keys"]}
    assert ours == theirs
    assert sum(p.numel() for p in model.parameters()) == PARAMS[name] == ref["param_count"]


@pytest.mark.slow
def test_logits_and_every_step_match_the_original(case):
    name, model, ref = case
    x = reference_input(224)
    with torch.no_grad():
        logits = model(x)
    assert relative_error(logits, ref["logits"][-1]) < TOLERANCE
    recorded = record(model, x)
    for area, steps in recorded.items():
        expected = ref["taps"][f"{area}.output"]
        assert len(steps) == len(expected), area
        for t, (ours, theirs) in enumerate(zip(steps, expected)):
            assert tuple(ours.shape) == tuple(ref["tap_shapes"][f"{area}.output"][t])
            assert relative_error(subsample(ours), theirs) < TOLERANCE, (area, t)


@pytest.mark.parametrize("size", [(96, 96), (256, 256), (160, 224)])
def test_recurrent_models_accept_any_input_size(size):
    for name in ("cornet_r", "cornet_rt"):
        model = create_model(name).eval()
        with torch.no_grad():
            assert model(torch.randn(1, 3, *size)).shape == (1, 1000)


def test_rt_information_climbs_one_area_per_step():
    model = create_model("cornet_rt").eval()
    a, b = torch.randn(1, 3, 224, 224), torch.randn(1, 3, 224, 224)
    ra, rb = record(model, a), record(model, b)
    card = model.card
    for area in card.areas:
        for t in range(area.steps):
            same = torch.equal(ra[area.name][t], rb[area.name][t])
            assert same == (t in area.silent_steps), (area.name, t)
    assert card.area("IT").silent_steps == (0, 1, 2)


def test_sequential_r_depends_on_the_image_from_step_one():
    card = create_model("cornet_r").card
    assert [a.silent_steps for a in card.areas] == [(), (0,), (0,), (0,)]


def test_times_changes_the_number_of_steps():
    model = create_model("cornet_r", times=3)
    assert [a.steps for a in model.card.areas] == [3, 3, 3, 3]
    assert [len(v) for v in record(model, torch.randn(1, 3, 64, 64)).values()] == [3, 3, 3, 3]


def test_r_and_rt_share_v1_but_not_higher_areas():
    r = fill_deterministic(create_model("cornet_r"))
    rt = fill_deterministic(create_model("cornet_rt"))
    x = torch.randn(1, 3, 224, 224)
    out_r, out_rt = record(r, x), record(rt, x)
    assert all(torch.equal(p, q) for p, q in zip(out_r["V1"], out_rt["V1"]))
    assert not torch.allclose(out_r["IT"][-1], out_rt["IT"][-1])


def test_cornet_s_does_not_mutate_conv2_stride():
    model = create_model("cornet_s").eval()
    with torch.no_grad():
        model(torch.randn(1, 3, 64, 64))
    assert all(getattr(model, a).conv2.stride == (1, 1) for a in ("V2", "V4", "IT"))
