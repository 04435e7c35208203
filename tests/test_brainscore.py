"""The Brain-Score adapter, without brainscore-vision installed."""

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from brainlike import BrainlikeError, create_model, load_images, model_card, record
from brainlike.brainscore import BrainScoreModel, step_for_bins


def test_brainscore_vision_is_not_needed():
    pytest.importorskip("xarray")
    with pytest.raises(ImportError):
        import brainscore_vision  # noqa: F401


def test_each_bin_is_answered_by_the_step_that_starts_nearest():
    v4 = model_card("cornet_s").area("V4")  # bins start at 90, 140, 190, 240 ms
    assert step_for_bins(v4, [(90, 140), (150, 200), (170, 220), (250, 300), (0, 10)]) == [0, 1, 2, 3, 0]
    it = model_card("cornet_s").area("IT")  # 100, 200
    assert step_for_bins(it, [(70, 170), (170, 270)]) == [0, 1]


def test_steps_without_a_commitment_are_never_used():
    v2 = model_card("cornet_r").area("V2")  # legacy bins: step 0 has none, step 1 starts at 60 ms
    assert step_for_bins(v2, [(0, 50), (50, 80)]) == [1, 1]
    it = model_card("cornet_rt", times=2).area("IT")  # IT is silent at both steps
    with pytest.raises(BrainlikeError, match="no time commitment"):
        step_for_bins(it, [(70, 170)])
    with pytest.raises(BrainlikeError, match="end > start"):
        step_for_bins(v2, [(100, 50)])


class StimulusSet(pd.DataFrame):
    """The two things the adapter uses of Brain-Score's StimulusSet: a stimulus_id column and get_stimulus."""

    _metadata = ["paths"]

    def get_stimulus(self, stimulus_id):
        return self.paths[stimulus_id]


@pytest.fixture(scope="module")
def stimuli(tmp_path_factory):
    root = tmp_path_factory.mktemp("stimuli")
    rng = np.random.default_rng(0)
    paths = {}
    for i in range(3):
        path = root / f"{i}.png"
        Image.fromarray(rng.integers(0, 256, size=(30, 30, 3), dtype=np.uint8)).save(path)
        paths[f"stim{i}"] = str(path)
    stimulus_set = StimulusSet({"stimulus_id": list(paths)})
    stimulus_set.paths = paths
    return stimulus_set


@pytest.fixture(scope="module")
def brain_model():
    torch.manual_seed(0)
    return BrainScoreModel(create_model("cornet_s"), identifier="cornet_s-test", batch_size=2)


def test_identity_and_visual_degrees(brain_model):
    assert brain_model.identifier == "cornet_s-test" and brain_model.visual_degrees() == 8
    brain_model.start_task("passive")
    with pytest.raises(BrainlikeError, match="only the passive task"):
        brain_model.start_task("label")


@pytest.mark.slow
def test_look_at_returns_the_recorded_steps_labelled_with_the_requested_bins(brain_model, stimuli):
    bins = [(70, 120), (120, 170), (200, 250)]
    brain_model.start_recording("IT", bins)
    assembly = brain_model.look_at(stimuli)
    assert assembly.dims == ("presentation", "neuroid", "time_bin")
    assert assembly.shape == (3, 512 * 7 * 7, 3)
    assert list(assembly.stimulus_id.values) == ["stim0", "stim1", "stim2"]
    assert list(assembly.time_bin_start.values) == [70, 120, 200] and list(assembly.time_bin_end.values) == [
        120,
        170,
        250,
    ]
    assert list(assembly.layer.values) == ["IT.output-t0", "IT.output-t0", "IT.output-t1"]
    assert set(assembly.region.values) == {"IT"}
    k = 5 * 49 + 3 * 7 + 1
    assert (assembly.channel.values[k], assembly.y.values[k], assembly.x.values[k]) == (5, 3, 1)
    x = load_images([stimuli.get_stimulus(i) for i in stimuli["stimulus_id"]])
    it = record(brain_model.model, x, areas=["IT"])["IT"]
    # look_at ran in batches of 2, record() in one of 3: CPU convolutions may pick other algorithms (Winograd in
    # CORnet-S's later steps), equal up to float32 rounding of the activations' scale
    scale = float(it[1].abs().max())
    np.testing.assert_allclose(assembly.values[..., 0], it[0].flatten(1).numpy(), rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(assembly.values[..., 2], it[1].flatten(1).numpy(), rtol=0, atol=1e-5 * scale)


def test_regions_map_to_the_cards_areas(brain_model, stimuli):
    brain_model.start_recording("V1", [(50, 150)])
    assembly = brain_model.look_at([stimuli.get_stimulus("stim0")])
    assert assembly.shape == (1, 64 * 56 * 56, 1) and list(assembly.layer.values) == ["V1.output-t0"]
    with pytest.raises(BrainlikeError, match="commits no area to region 'MT'"):
        brain_model.start_recording("MT", [(50, 150)])


def test_look_at_needs_a_recording_first():
    model = BrainScoreModel("cornet_z", pretrained=False)
    with pytest.raises(BrainlikeError, match="start_recording"):
        model.look_at(["x.png"])
