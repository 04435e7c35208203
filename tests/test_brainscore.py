"""The Brain-Score adapter, without brainscore-vision installed."""

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from brainlike import BrainlikeError, create_model, load_images, model_card, record
from brainlike.brainscore import BrainScoreModel, step_for_bins


def test_brainscore_vision_is_not_needed():
    """Without brainscore-vision the adapter is a plain class (tests/integration runs it against Brain-Score)."""
    try:
        import brainscore_vision  # noqa: F401
    except ImportError:
        assert BrainScoreModel.__mro__[1:] == (object,)
    else:
        pytest.skip("brainscore-vision is installed; tests/integration checks the BrainModel")


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
    with pytest.raises(BrainlikeError, match="unknown task 'pointing'"):
        brain_model.start_task("pointing")
    with pytest.raises(BrainlikeError, match="head is for imagenet, not ecoset"):
        brain_model.start_task("label", "ecoset")


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
    assert assembly.attrs["layers"] == ["IT.output-t0", "IT.output-t0", "IT.output-t1"]
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
    assert assembly.shape == (1, 64 * 56 * 56, 1) and assembly.attrs["layers"] == ["V1.output-t0"]
    with pytest.raises(BrainlikeError, match="commits no area to region 'MT'"):
        brain_model.start_recording("MT", [(50, 150)])


def test_look_at_needs_a_recording_first():
    model = BrainScoreModel("cornet_z", pretrained=False)
    with pytest.raises(BrainlikeError, match="start_recording"):
        model.look_at(["x.png"])


def tiny_vone(noise_mode="neuronal"):
    """A VOne block (8 channels, 32 px) and a linear head: a stochastic model that runs in milliseconds."""
    from brainlike import wrap
    from brainlike.layers.vone import VOneBlock

    torch.manual_seed(0)
    block = VOneBlock(
        simple_channels=4, complex_channels=4, kernel_size=7, image_size=32, visual_degrees=4, noise_mode=noise_mode
    )
    head = torch.nn.Sequential(block, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 10))
    return wrap(head, name="tiny_vone", areas={"V1": "0"}, input_size=32, visual_degrees=4)


@pytest.mark.slow
def test_a_stochastic_model_answers_with_the_mean_of_its_trials(stimuli):
    adapter = BrainScoreModel(tiny_vone(), batch_size=2)
    assert adapter.stochastic
    adapter.start_recording("V1", [(50, 150)])
    torch.manual_seed(1)
    mean = adapter.look_at(stimuli, number_of_trials=5).values
    torch.manual_seed(1)
    single = [adapter.look_at(stimuli).values for _ in range(5)]
    assert not np.allclose(single[0], single[1])  # the noise is real
    np.testing.assert_allclose(mean, np.mean(single, axis=0), rtol=1e-5, atol=1e-6)
    assert np.abs(mean - single[0]).max() > 1e-3


def test_a_deterministic_model_runs_once_whatever_the_number_of_trials(stimuli):
    model = tiny_vone(noise_mode=None)
    adapter = BrainScoreModel(model, batch_size=8)
    assert not adapter.stochastic
    passes = []
    model[0].register_forward_pre_hook(lambda *_: passes.append(1))
    adapter.start_recording("V1", [(50, 150)])
    once = adapter.look_at(stimuli).values
    again = adapter.look_at(stimuli, number_of_trials=10).values
    assert len(passes) == 2 and np.array_equal(once, again)
    with pytest.raises(BrainlikeError, match="at least 1"):
        adapter.look_at(stimuli, number_of_trials=0)


def test_a_fixed_noise_seed_makes_a_vone_block_deterministic():
    model = tiny_vone()
    assert BrainScoreModel(model).stochastic
    model[0].fix_noise(3)
    assert not BrainScoreModel(model).stochastic
    assert BrainScoreModel(model, stochastic=True).stochastic


def test_every_stimulus_set_column_is_a_presentation_coordinate(stimuli):
    stimulus_set = StimulusSet({"stimulus_id": list(stimuli.paths), "object_name": ["a", "b", "a"], "size": [1, 2, 3]})
    stimulus_set.paths = stimuli.paths
    adapter = BrainScoreModel(tiny_vone(noise_mode=None))
    adapter.start_recording("V1", [(50, 100), (100, 150)])
    assembly = adapter.look_at(stimulus_set)
    assert list(assembly.object_name.values) == ["a", "b", "a"] and list(assembly["size"].values) == [1, 2, 3]
    assert list(assembly.stimulus_path.values) == [stimuli.paths[i] for i in stimulus_set["stimulus_id"]]
    assert set(assembly.region.values) == {"V1"} and assembly.shape == (3, 8 * 8 * 8, 2)


def test_the_label_task_gives_what_classify_gives(stimuli):
    from brainlike.classify import classify

    paths = [stimuli.get_stimulus(i) for i in stimuli["stimulus_id"]]
    torch.manual_seed(0)
    adapter = BrainScoreModel("cornet_z", pretrained=False, batch_size=2)
    torch.manual_seed(0)
    expected = [labels[0][0] for _, labels in classify("cornet_z", paths, pretrained=False, topk=1)]
    adapter.start_task("label", "imagenet")
    choices = adapter.look_at(stimuli)
    assert choices.dims == ("choice", "presentation") and choices.shape == (1, 3)
    assert list(choices["label"].values) == expected
    assert list(choices.stimulus_id.values) == ["stim0", "stim1", "stim2"]
    with pytest.raises(BrainlikeError, match="unknown"):
        adapter.start_task("label", "cifar")


def test_the_label_task_answers_in_ecoset_for_an_ecoset_head(stimuli):
    torch.manual_seed(0)
    model = create_model("bl_net_32", num_classes=565)
    from dataclasses import replace

    model.card = replace(model.card, labels="ecoset")
    adapter = BrainScoreModel(model)
    adapter.start_task("label", "ecoset")
    choices = adapter.look_at(stimuli)
    from brainlike.labels import class_names

    x = load_images([stimuli.get_stimulus(i) for i in stimuli["stimulus_id"]], "minus_one_one", 32)
    with torch.no_grad():
        best = model.eval()(x).argmax(dim=1).tolist()
    assert list(choices.values[0]) == [class_names("ecoset")[i] for i in best]


def test_probabilities_come_from_a_readout_fitted_on_the_fitting_stimuli(stimuli):
    rng = np.random.default_rng(1)
    root = stimuli.get_stimulus("stim0").rsplit("/", 1)[0]
    paths, labels = {}, []
    for i in range(12):  # dark and bright images: the two labels are separable from any features
        level = 40 if i % 2 else 215
        pixels = np.clip(level + rng.normal(0, 10, size=(32, 32, 3)), 0, 255).astype(np.uint8)
        paths[f"fit{i}"] = f"{root}/fit{i}.png"
        Image.fromarray(pixels).save(paths[f"fit{i}"])
        labels.append("dark" if i % 2 else "bright")
    fitting = StimulusSet({"stimulus_id": list(paths), "image_label": labels})
    fitting.paths = paths
    adapter = BrainScoreModel(tiny_vone(noise_mode=None))
    adapter.start_task("probabilities", fitting)
    probabilities = adapter.look_at(fitting)
    assert probabilities.dims == ("presentation", "choice") and list(probabilities.choice.values) == ["bright", "dark"]
    np.testing.assert_allclose(probabilities.values.sum(axis=1), 1, rtol=1e-6)
    chosen = probabilities.choice.values[probabilities.values.argmax(axis=1)]
    assert list(chosen) == labels
    with pytest.raises(BrainlikeError, match="image_label"):
        adapter.start_task("probabilities", stimuli)


def test_odd_one_out_picks_the_stimulus_outside_the_most_similar_pair(stimuli, tmp_path):
    paths = {}
    for name, level in (("dark0", 20), ("dark1", 30), ("bright", 230)):
        paths[name] = str(tmp_path / f"{name}.png")
        Image.fromarray(np.full((32, 32, 3), level, dtype=np.uint8)).save(paths[name])
    order = ["dark0", "bright", "dark1", "bright", "dark1", "dark0"]
    triplets = StimulusSet({"stimulus_id": order})
    triplets.paths = paths
    adapter = BrainScoreModel(tiny_vone(noise_mode=None))
    adapter.start_task("odd_one_out")
    choices = adapter.look_at(triplets)
    assert list(choices.values[0]) == ["bright", "bright"]
    # Brain-Score's assemblies make a lone presentation coordinate the dimension's index
    triplet_ids = choices["stimulus_id"] if "stimulus_id" in choices.coords else choices["presentation"]
    assert list(triplet_ids.values) == ["dark0|bright|dark1", "bright|dark1|dark0"]


def test_blt_vs_regions_follow_brainscores_published_map():
    model = create_model("blt_vs_imagenet_128", timesteps=2)
    adapter = BrainScoreModel(model, pretrained=False)
    assert adapter.regions == {"V1": "V1", "V2": "V3", "V4": "V1", "IT": "V4"}
    assert BrainScoreModel(model, regions={"IT": "LOC"}).regions["IT"] == "LOC"
    with pytest.raises(BrainlikeError, match="does not have"):
        BrainScoreModel(model, regions={"IT": "MT"})


@pytest.mark.slow
def test_blt_vs_records_the_chosen_stream(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)
    torch.manual_seed(0)
    model = create_model("blt_vs_imagenet_128", timesteps=2)
    x = load_images([str(path)], model.card.preprocessing, model.card.input_size)
    acts = record(model, x, areas=["V4"], stream="all")
    both = BrainScoreModel(model, stream="all")
    both.start_recording("IT", [(70, 95)])  # IT -> V4; V4 steps start at 65 and 90 ms: step 0
    assembly = both.look_at([str(path)])
    expected = torch.cat([acts["V4.bu"][0], acts["V4.td"][0]], dim=1).flatten(1).numpy()
    np.testing.assert_allclose(assembly.values[..., 0], expected, rtol=1e-5, atol=1e-6)
    channels = acts["V4.bu"][0].shape[1]
    assert (
        set(assembly.stream.values[: expected.shape[1] // 2]) == {"bu"}
        and assembly.channel.values[-1] == 2 * channels - 1
    )
    td = BrainScoreModel(model, stream="td")
    td.start_recording("IT", [(70, 95)])
    np.testing.assert_allclose(td.look_at([str(path)]).values[..., 0], acts["V4.td"][0].flatten(1).numpy(), atol=1e-6)


def test_features_hand_over_as_an_assembly():
    import xarray as xr

    from brainlike.brainscore import features_as_assembly

    features = xr.DataArray(
        np.arange(12.0).reshape(3, 4),
        dims=("stimulus", "neuroid"),
        coords={"stimulus": ["a", "b", "c"], "layer": ("neuroid", ["V4.output-t0"] * 2 + ["IT.output-t0"] * 2)},
    )
    stimulus_set = pd.DataFrame({"stimulus_id": ["c", "b", "a"], "object_name": ["z", "y", "x"]})
    assembly = features_as_assembly(features, stimulus_set=stimulus_set, region="IT")
    assert assembly.dims == ("presentation", "neuroid")
    assert list(assembly.stimulus_id.values) == ["a", "b", "c"] and list(assembly.object_name.values) == ["x", "y", "z"]
    assert list(assembly.neuroid_id.values) == ["V4.output-t0.0", "V4.output-t0.1", "IT.output-t0.0", "IT.output-t0.1"]
    np.testing.assert_array_equal(assembly.values, features.values)


def test_the_plugin_registers_each_model_on_a_line_brainscore_finds(tmp_path):
    from brainlike.brainscore import write_plugin

    folder = write_plugin(tmp_path / "brainlike", ["cornet_s", "torchvision:resnet18"], pretrained=False)
    source = (folder / "__init__.py").read_text()
    assert "model_registry['brainlike-cornet_s'] = lambda: BrainScoreModel('cornet_s', pretrained=False" in source
    assert "model_registry['brainlike-torchvision:resnet18']" in source
    assert (folder / "requirements.txt").read_text() == "brainlike\n"
    compile(source, "__init__.py", "exec")
    with pytest.raises(BrainlikeError, match="unknown model"):
        write_plugin(tmp_path / "x", ["cornet_q"])


@pytest.mark.slow
def test_torchvision_calc_and_wrapped_models_answer_their_regions(stimuli):
    torch.manual_seed(0)
    resnet = BrainScoreModel("torchvision:resnet18", pretrained=False)
    resnet.start_recording("IT", [(70, 170), (170, 270)])
    assembly = resnet.look_at([stimuli.get_stimulus("stim0")])
    assert assembly.shape == (1, 512 * 7 * 7, 2) and assembly.attrs["layers"] == ["IT.output-t0"] * 2
    calc = BrainScoreModel("calc_cifar", pretrained=False)
    area = calc.card.area(calc.regions["V1"])
    assert area.time_bins == (None,) and step_for_bins(area, [(70, 170), (170, 270)]) == [0, 0]
    calc.start_recording("V1", [(70, 170)])
    assert calc.look_at([stimuli.get_stimulus("stim1")]).shape[0] == 1
