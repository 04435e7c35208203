"""The adapter under Brain-Score's own metric and benchmark classes, on generated stimuli and synthetic data."""

import numpy as np
import pytest
import torch

from brainlike import create_model, load_images, record
from brainlike.brainscore import BrainScoreModel, step_for_bins

from .conftest import make_stimulus_set

pytestmark = pytest.mark.slow


def planted(features: np.ndarray, neuroids: int, rng, noise: float = 0.05) -> np.ndarray:
    """Responses that are a linear function of the features' top 3 principal components, plus noise."""
    centred = features - features.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    clean = (u[:, :3] * s[:3]) @ rng.normal(size=(3, neuroids))
    return clean + noise * clean.std() * rng.normal(size=clean.shape)


def neural_assembly(stimulus_set, responses: np.ndarray, region: str, bins):
    """A NeuroidAssembly as Brain-Score's data plugins load them: (presentation, neuroid, time_bin), the
    presentations repeated (a `repetition` coordinate) and carrying the StimulusSet's columns."""
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly

    repetitions, stimuli, neuroids, _ = responses.shape
    presentation = {
        column: ("presentation", np.tile(stimulus_set[column].values, repetitions))
        for column in ("stimulus_id", "object_name", "image_label")
    }
    presentation["repetition"] = ("presentation", np.repeat(np.arange(repetitions), stimuli))
    assembly = NeuroidAssembly(
        responses.reshape(repetitions * stimuli, neuroids, len(bins)),
        coords={
            **presentation,
            "neuroid_id": ("neuroid", [f"n{i}" for i in range(neuroids)]),
            "region": ("neuroid", [region] * neuroids),
            "time_bin_start": ("time_bin", [b[0] for b in bins]),
            "time_bin_end": ("time_bin", [b[1] for b in bins]),
        },
        dims=["presentation", "neuroid", "time_bin"],
    )
    assembly.attrs["stimulus_set"] = stimulus_set
    assembly.attrs["stimulus_set_identifier"] = stimulus_set.identifier
    return assembly


def test_the_adapter_is_a_brainmodel_answering_with_a_neuroid_assembly(tmp_path):
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
    from brainscore_vision.model_interface import BrainModel

    stimulus_set = make_stimulus_set(tmp_path, 4, identifier="brainlike-types")
    adapter = BrainScoreModel("cornet_z", pretrained=False)
    assert isinstance(adapter, BrainModel)
    adapter.start_recording(BrainModel.RecordingTarget.V4, [(70, 170)])
    assembly = adapter.look_at(stimulus_set)
    assert isinstance(assembly, NeuroidAssembly) and assembly.dims == ("presentation", "neuroid", "time_bin")
    assert list(assembly.object_name.values) == list(stimulus_set.object_name)
    assert assembly.sel(stimulus_id="s002").shape == (1, 256 * 14 * 14, 1)


def test_brainscores_pls_scores_a_planted_mapping_near_ceiling_and_shuffled_responses_near_zero(tmp_path):
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
    from brainscore_vision import load_metric

    stimulus_set = make_stimulus_set(tmp_path, 24, identifier="brainlike-pls")
    torch.manual_seed(0)
    adapter = BrainScoreModel("cornet_z", pretrained=False, batch_size=12)
    adapter.start_recording("IT", [(70, 170)])
    source = adapter.look_at(stimulus_set).squeeze("time_bin")
    rng = np.random.default_rng(0)
    responses = planted(source.values, 20, rng)  # noise 5 % of the signal: r of ~0.999 is the ceiling
    coords = {c: ("presentation", stimulus_set[c].values) for c in ("stimulus_id", "object_name")}
    coords.update(neuroid_id=("neuroid", [f"n{i}" for i in range(20)]), region=("neuroid", ["IT"] * 20))
    target = NeuroidAssembly(responses, coords=coords, dims=["presentation", "neuroid"])
    shuffled = NeuroidAssembly(responses[rng.permutation(24)], coords=coords, dims=["presentation", "neuroid"])
    metric = load_metric("pls")  # stratifies on object_name, which the adapter carries over
    assert float(metric(source, target)) > 0.95
    assert abs(float(metric(source, shuffled))) < 0.3


def _benchmark(identifier, assembly, metric, visual_degrees):
    from brainscore_vision import load_ceiling
    from brainscore_vision.benchmark_helpers.neural_common import NeuralBenchmark, average_repetition

    temporal = assembly.sizes["time_bin"] > 1
    ceiler = load_ceiling("internal_consistency_temporal" if temporal else "internal_consistency")
    if not temporal:  # as Brain-Score's static benchmarks load their data
        assembly = assembly.squeeze("time_bin")
    averaged = average_repetition(assembly)
    return NeuralBenchmark(
        identifier=identifier,
        version=1,
        assembly=averaged,
        similarity_metric=metric,
        visual_degrees=visual_degrees,  # shown at the model's own size, the images stay as they are
        number_of_trials=1,
        ceiling_func=lambda: ceiler(assembly),
        parent=str(np.unique(assembly.region)[0]),
    )


def _features(model, stimulus_set, area, steps):
    paths = [str(stimulus_set.get_stimulus(i)) for i in stimulus_set.stimulus_id]
    x = load_images(paths, model.card.preprocessing, model.card.input_size)
    return [a.flatten(1).numpy() for a in record(model, x, areas=[area], steps=steps)[area]]


def test_a_neural_benchmark_scores_a_feed_forward_model_end_to_end(tmp_path):
    from brainscore_vision import load_metric

    stimulus_set = make_stimulus_set(tmp_path / "images", 24, identifier="brainlike-benchmark-ff")
    torch.manual_seed(0)
    model = create_model("cornet_z")
    rng = np.random.default_rng(1)
    (features,) = _features(model, stimulus_set, "IT", [0])
    clean = planted(features, 16, rng, noise=0)
    trials = clean[None] + 0.1 * clean.std() * rng.normal(size=(4, *clean.shape))
    assembly = neural_assembly(stimulus_set, trials[..., None], "IT", [(70, 170)])
    benchmark = _benchmark("brainlike.synthetic-IT-pls", assembly, load_metric("pls"), model.card.visual_degrees)
    score = benchmark(BrainScoreModel(model, batch_size=12))
    raw, ceiling = float(score.raw), float(score.ceiling)
    assert 0.9 < ceiling <= 1 and raw > 0.9
    assert float(score) == pytest.approx(raw**2 / ceiling, rel=1e-6)


def test_a_neural_benchmark_scores_a_recurrent_model_per_time_bin(tmp_path):
    from brainscore_vision import load_metric

    stimulus_set = make_stimulus_set(tmp_path / "images", 24, identifier="brainlike-benchmark-rec", seed=2)
    torch.manual_seed(0)
    model = create_model("cornet_rt")
    rng = np.random.default_rng(2)
    bins = [(70, 170), (170, 270)]
    # CORnet-RT's IT is silent for 3 steps, then commits steps 3 and 4 to 140-170 and 170-200 ms
    assert step_for_bins(model.card.area("IT"), bins) == [3, 4]
    per_step = _features(model, stimulus_set, "IT", [3, 4])
    clean = np.stack([planted(f, 16, rng, noise=0) for f in per_step], axis=-1)
    trials = clean[None] + 0.1 * clean.std() * rng.normal(size=(4, *clean.shape))
    assembly = neural_assembly(stimulus_set, trials, "IT", bins)
    degrees = model.card.visual_degrees
    benchmark = _benchmark("brainlike.synthetic-IT-temporal", assembly, load_metric("spantime_pls"), degrees)
    score = benchmark(BrainScoreModel(model, batch_size=12))
    assert score.raw.dims == ("time_bin",) and (score.raw.values > 0.9).all()  # one score per bin
