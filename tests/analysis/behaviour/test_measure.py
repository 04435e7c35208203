"""measure_behaviour end to end on the fixture stimuli: oracles, a recurrent model's readouts, Ecoset heads."""

import numpy as np
import pytest
import torch
import torch.nn as nn

from brainlike import BrainlikeError, create_model
from brainlike.analysis.behaviour import accuracy, category_map, measure_behaviour, shape_bias
from brainlike.runtime import Readouts
from brainlike.transforms import load_images
from tests.analysis.behaviour.helpers import SETS, STIMULI, Oracle, fixture_images, manual_decisions


@pytest.mark.parametrize("cue,bias", [("shape", 1.0), ("texture", 0.0)])
def test_oracles_through_the_whole_pipeline(cue, bias):
    result = measure_behaviour(Oracle("cue-conflict", cue), "cue-conflict", stimuli=STIMULI, batch_size=3, workers=0)
    assert result.images == tuple(fixture_images("cue-conflict")) and result.readout_steps == 1
    assert len(result.unavailable) == 1280 - 8 and not result.excluded and result.model == "Oracle"
    trials = result.frame()
    assert list(trials.columns) == ["observer", "image", "shape", "texture", "response", "rt", "step", "confidence"]
    assert shape_bias(trials) == bias
    assert accuracy(trials) == (1.0 if cue == "shape" else 1 / 8)  # bird10-bird2: texture is the shape too
    assert set(result.timings) == {"decode_s", "forward_s", "analysis_s"}


@pytest.mark.slow
def test_decisions_at_every_step_are_those_of_readouts():
    torch.manual_seed(0)
    model = create_model("bl_net_32").eval()  # 10 outputs, no label set: a user's mapping
    mapping = {"airplane": [0], "bear": [1], "bird": [2, 3], "cat": [4], "dog": [5], "truck": [6], "keyboard": [7]}
    mapping["oven"] = [8, 9]
    result = measure_behaviour(model, "edges", stimuli=STIMULI, mapping=mapping, batch_size=5, workers=0)
    images = fixture_images("edges")
    assert result.images == tuple(images) and result.readout_steps == 4
    x = load_images([STIMULI / SETS["edges"] / i for i in images], model.card.preprocessing, model.card.input_size)
    with torch.no_grad():
        steps = Readouts(model)(x)
    cmap = category_map(10, None, mapping)
    trials = result.frame(step=None)
    assert sorted(trials["step"].unique()) == [0, 1, 2, 3]
    for t, logits in enumerate(steps):
        at_t = trials[trials["step"] == t]
        assert list(at_t["response"]) == manual_decisions(logits, cmap)
        probabilities = cmap.probabilities(logits)
        expected = (probabilities.max(1).values / probabilities.sum(1)).numpy()
        np.testing.assert_allclose(at_t["confidence"].to_numpy(), expected, rtol=1e-4)
    assert result.frame()["step"].unique().tolist() == [3]  # the default frame is the last readout


@pytest.mark.slow
def test_an_ecoset_head_leaves_out_images_of_categories_it_lacks():
    model = create_model("bl_net_128").eval()  # 565 Ecoset classes
    result = measure_behaviour(model, "cue-conflict", stimuli=STIMULI, workers=0)
    assert result.dropped == ("keyboard", "oven")
    assert result.excluded == ("airplane/airplane10-oven2.png", "keyboard/keyboard1-dog3.png")
    assert len(result.images) == 6 and set(result.frame()["response"]) <= set(result.categories)


def test_limit_thins_evenly_and_bad_input_is_one_clear_error(tmp_path):
    oracle = Oracle("silhouettes", "shape")
    result = measure_behaviour(oracle, "silhouettes", stimuli=STIMULI, limit=3, workers=0)
    assert result.images == ("airplane/airplane1.png", "dog/dog1.png", "truck/truck1.png")
    with pytest.raises(BrainlikeError, match="limit must be at least 1"):
        measure_behaviour(oracle, "silhouettes", stimuli=STIMULI, limit=0)
    with pytest.raises(BrainlikeError, match="holds no edges stimuli"):
        measure_behaviour(oracle, "edges", stimuli=tmp_path)
    with pytest.raises(BrainlikeError, match="10 outputs .* no known mapping"):
        measure_behaviour(nn.Sequential(nn.Flatten(), nn.LazyLinear(10)), "edges", stimuli=STIMULI)
    broken = tmp_path / "edges" / "cat" / "cat1.png"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not a png")
    with pytest.raises(BrainlikeError, match="cannot read image .*cat1.png"):
        measure_behaviour(oracle, "edges", stimuli=tmp_path, workers=0)
