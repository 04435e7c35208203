"""Behavioural tasks and repeated trials against Brain-Score's own helpers."""

import numpy as np
import pytest
import torch

from brainlike import create_model, load_images, record
from brainlike.brainscore import BrainScoreModel

from .conftest import make_stimulus_set

pytestmark = pytest.mark.slow


def _paths(stimulus_set):
    return [str(stimulus_set.get_stimulus(i)) for i in stimulus_set.stimulus_id]


def test_the_label_task_gives_classifys_labels_and_brainscores_synsets(tmp_path):
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
    from brainscore_vision.model_helpers.brain_transformation.behavior import LabelBehavior
    from brainscore_vision.model_interface import BrainModel

    from brainlike.classify import classify

    stimulus_set = make_stimulus_set(tmp_path, 6, identifier="brainlike-label")
    torch.manual_seed(0)
    adapter = BrainScoreModel("cornet_z", pretrained=False)
    torch.manual_seed(0)
    expected = [labels[0][0] for _, labels in classify("cornet_z", _paths(stimulus_set), pretrained=False, topk=1)]
    adapter.start_task(BrainModel.Task.label, "imagenet")
    choices = adapter.look_at(stimulus_set)
    assert list(choices["label"].values) == expected
    # Brain-Score's own LabelBehavior, given the same logits, chooses the same synsets
    x = load_images(_paths(stimulus_set), adapter.card.preprocessing, adapter.card.input_size)
    with torch.no_grad():
        logits = adapter.model(x).numpy()
    coords = {"stimulus_id": ("presentation", list(stimulus_set.stimulus_id)), "neuroid_num": ("neuroid", range(1000))}
    behaviour = LabelBehavior("reference", activations_model=None)
    behaviour.start_task(BrainModel.Task.label, "imagenet")
    theirs = behaviour.logits_to_choice(NeuroidAssembly(logits, coords=coords, dims=["presentation", "neuroid"]))
    assert list(choices.values[0]) == list(theirs.values[0]) and choices.values[0][0].startswith("n")


def test_the_label_task_maps_a_list_of_labels_as_brainscore_does(tmp_path):
    stimulus_set = make_stimulus_set(tmp_path, 4, identifier="brainlike-label-list")
    torch.manual_seed(0)
    adapter = BrainScoreModel("cornet_z", pretrained=False)
    adapter.start_task("label", ["dog", "cat", "car"])
    choices = adapter.look_at(stimulus_set)
    assert set(choices.values[0]) <= {"dog", "cat", "car"} and choices.shape == (1, 4)


def test_probabilities_equal_brainscores_probabilities_mapping_on_the_same_features(tmp_path):
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
    from brainscore_vision.model_helpers.brain_transformation.behavior import ProbabilitiesMapping

    fitting = make_stimulus_set(tmp_path / "fit", 16, identifier="brainlike-fit", seed=3)
    test = make_stimulus_set(tmp_path / "test", 6, identifier="brainlike-test", seed=4)
    torch.manual_seed(0)
    adapter = BrainScoreModel("cornet_z", pretrained=False)

    def activations(stimuli, layers, **_):  # Brain-Score's activations model: IT, averaged over space
        x = load_images(_paths(stimuli), adapter.card.preprocessing, adapter.card.input_size)
        features = record(adapter.model, x, areas=["IT"], pool="avg")["IT"][0].numpy()
        coords = {c: ("presentation", stimuli[c].values) for c in stimuli.columns}
        coords["neuroid_id"] = ("neuroid", [f"IT.{i}" for i in range(features.shape[1])])
        return NeuroidAssembly(features, coords=coords, dims=["presentation", "neuroid"])

    theirs = ProbabilitiesMapping("x", activations, "IT")
    theirs.start_task("probabilities", fitting)
    expected = theirs.look_at(test)
    adapter.start_task("probabilities", fitting)
    ours = adapter.look_at(test)
    assert list(ours.choice.values) == list(expected.choice.values)
    np.testing.assert_allclose(ours.values, expected.values, rtol=0, atol=2e-4)  # newton-cg's tolerance


def test_ten_trials_of_a_vonenet_are_the_mean_of_ten_noisy_presentations(tmp_path):
    stimulus_set = make_stimulus_set(tmp_path, 2, identifier="brainlike-trials")
    torch.manual_seed(0)
    # the VOne block at 32 of its 512 channels: Brain-Score indexes every neuroid, and 1.6 M take seconds a call
    adapter = BrainScoreModel(create_model("vonenet_alexnet", simple_channels=16, complex_channels=16), batch_size=2)
    assert adapter.stochastic
    adapter.start_recording("V1", [(50, 150)])
    torch.manual_seed(7)
    mean = adapter.look_at(stimulus_set, number_of_trials=10).values
    torch.manual_seed(7)
    single = np.stack([adapter.look_at(stimulus_set).values for _ in range(10)])
    assert np.abs(single[0] - single[1]).max() > 1  # each presentation is noisy
    np.testing.assert_allclose(mean, single.mean(axis=0), rtol=1e-5, atol=1e-5)
    assert single.std(axis=0).mean() > 3 * np.abs(mean - single.mean(axis=0)).max()


def test_a_deterministic_model_is_not_rerun_for_trials(tmp_path):
    stimulus_set = make_stimulus_set(tmp_path, 2, identifier="brainlike-once")
    model = create_model("cornet_z")
    passes = []
    model.V1.register_forward_pre_hook(lambda *_: passes.append(1))
    adapter = BrainScoreModel(model)
    adapter.start_recording("V1", [(50, 150)])
    adapter.look_at(stimulus_set, number_of_trials=10)
    assert not adapter.stochastic and len(passes) == 1
