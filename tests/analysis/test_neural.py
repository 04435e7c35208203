"""Neural predictivity, noise ceiling, neural data files and `brainlike compare`."""

import json

import h5py
import numpy as np
import pytest
import torch
import xarray as xr
from PIL import Image

from brainlike import BrainlikeError, create_model
from brainlike.analysis.features import extract_features, load_layer, stimulus_ids
from brainlike.analysis.neural import (
    compare_features,
    compare_report,
    load_neural,
    match_stimuli,
    neural_data,
    noise_ceiling,
    predictivity,
    spearman_brown,
)
from brainlike.cli import main


def synthetic(stimuli=150, features=30, neuroids=20, repetitions=4, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(stimuli, features))
    signal = x @ rng.normal(size=(features, neuroids))
    responses = signal[None] + noise * signal.std() * rng.normal(size=(repetitions, stimuli, neuroids))
    return x, responses


@pytest.mark.parametrize("method", ["ridge", "pls"])
def test_predictivity_recovers_a_linear_map(method):
    x, responses = synthetic()
    fit = predictivity(x, responses, method=method)
    assert fit.r.shape == (20,)
    assert fit.score > 0.95 and fit.ceiling_score > 0.95
    assert fit.normalized == pytest.approx(1.0, abs=0.05)


def test_shuffled_responses_are_not_predicted():
    x, responses = synthetic()
    shuffled = responses[:, np.random.default_rng(1).permutation(len(x))]
    fit = predictivity(x, shuffled, method="ridge")
    assert abs(fit.score) < 0.15


def test_noise_ceiling_follows_spearman_brown():
    rng = np.random.default_rng(0)
    pure_noise = rng.normal(size=(6, 400, 30))
    assert abs(np.median(noise_ceiling(pure_noise))) < 0.15
    # half-trial averages with signal variance 1 and noise variance 1 correlate at 0.5; two halves at 2/3
    signal = rng.normal(size=(4000, 5))
    reps = signal[None] + rng.normal(size=(2, 4000, 5))
    assert np.median(noise_ceiling(reps)) == pytest.approx(spearman_brown(0.5), abs=0.03)
    with pytest.raises(BrainlikeError, match="2 repetitions"):
        noise_ceiling(reps[:1])


def test_neural_files_round_trip(tmp_path):
    ids = [f"s{i}" for i in range(6)]
    responses = np.arange(2 * 6 * 3, dtype=float).reshape(2, 6, 3)
    np.savez(tmp_path / "n.npz", stimulus_id=ids, responses=responses, neuroid_id=["a", "b", "c"])
    with h5py.File(tmp_path / "n.h5", "w") as f:
        f["stimulus_id"] = np.array(ids, dtype=object).astype("S")
        f["responses"] = responses
    xr.DataArray(
        responses.transpose(1, 2, 0), dims=("stimulus", "neuroid", "repetition"), coords={"stimulus": ids}
    ).to_netcdf(tmp_path / "n.nc")
    for name in ("n.npz", "n.h5", "n.nc"):
        data = load_neural(tmp_path / name)
        assert data.stimulus_ids == ids and data.repetitions == 2
        np.testing.assert_array_equal(data.responses, responses)
    assert load_neural(tmp_path / "n.npz").neuroid_ids == ["a", "b", "c"]


def test_bad_neural_data_gives_clear_errors(tmp_path):
    np.savez(tmp_path / "nokey.npz", responses=np.zeros((3, 2)))
    with pytest.raises(BrainlikeError, match="lacks stimulus_id"):
        load_neural(tmp_path / "nokey.npz")
    np.savez(tmp_path / "short.npz", stimulus_id=["a", "b"], responses=np.zeros((3, 2)))
    with pytest.raises(BrainlikeError, match="2 stimulus ids for 3 stimuli"):
        load_neural(tmp_path / "short.npz")
    np.savez(tmp_path / "flat.npz", stimulus_id=["a", "b", "c"], responses=np.zeros(3))
    with pytest.raises(BrainlikeError, match="must be \\(stimulus, neuroid\\)"):
        load_neural(tmp_path / "flat.npz")
    with pytest.raises(BrainlikeError, match="2 of 3 neural stimulus ids are not in the features"):
        match_stimuli(["a", "x", "y"], ["a", "b", "c"])
    with pytest.raises(BrainlikeError, match="do not fit"):
        predictivity(np.zeros((20, 3)), np.zeros((19, 2)))


def test_time_binned_neural_files_round_trip(tmp_path):
    ids = [f"s{i}" for i in range(5)]
    bins = np.array([[70.0, 120.0], [120.0, 170.0], [170.0, 220.0]])
    responses = np.arange(2 * 5 * 4 * 3, dtype=float).reshape(2, 5, 4, 3)  # repetition, stimulus, neuroid, bin
    np.savez(tmp_path / "n.npz", stimulus_id=ids, responses=responses, time_bin_ms=bins)
    with h5py.File(tmp_path / "n.h5", "w") as f:
        f["stimulus_id"] = np.array(ids, dtype="S")
        f["responses"] = responses
        f["time_bin_ms"] = bins
    xr.DataArray(
        responses.transpose(3, 1, 0, 2),
        dims=("time_bin", "stimulus", "repetition", "neuroid"),
        coords={"stimulus": ids, "time_bin_start": ("time_bin", bins[:, 0]), "time_bin_end": ("time_bin", bins[:, 1])},
    ).to_netcdf(tmp_path / "n.nc")
    for name in ("n.npz", "n.h5", "n.nc"):
        data = load_neural(tmp_path / name)
        assert data.time_bins_ms == ((70, 120), (120, 170), (170, 220)) and data.repetitions == 2
        np.testing.assert_array_equal(data.responses, responses)
        (first, in_first), (_, _), (last, in_last) = data.bins()
        assert first == (70, 120) and last == (170, 220)
        np.testing.assert_array_equal(in_last.responses, responses[..., 2])
    averaged = neural_data(ids, responses.mean(axis=0), time_bins_ms=bins)  # no repetition axis
    assert averaged.responses.shape == (1, 5, 4, 3) and len(averaged.neuroid_ids) == 4


def test_bad_time_bins_give_clear_errors(tmp_path):
    ids = ["a", "b", "c"]
    with pytest.raises(BrainlikeError, match="with 2 time bins, got shape \\(1, 3, 4, 3\\)"):
        neural_data(ids, np.zeros((3, 4, 3)), time_bins_ms=[(0, 10), (10, 20)])
    with pytest.raises(BrainlikeError, match="\\(bins, 2\\) array"):
        neural_data(ids, np.zeros((3, 4, 2)), time_bins_ms=[0, 10])
    with pytest.raises(BrainlikeError, match="start_ms < end_ms"):
        neural_data(ids, np.zeros((3, 4, 1)), time_bins_ms=[(20, 10)])
    with pytest.raises(BrainlikeError, match="needs its time_bin_ms"):
        neural_data(ids, np.zeros((2, 3, 4, 5)))
    xr.DataArray(np.zeros((3, 4, 2)), dims=("stimulus", "neuroid", "time_bin"), coords={"stimulus": ids}).to_netcdf(
        tmp_path / "nobins.nc"
    )
    with pytest.raises(BrainlikeError, match="no time_bin_start and time_bin_end"):
        load_neural(tmp_path / "nobins.nc")
    with pytest.raises(BrainlikeError, match=".npz, .h5 or .nc"):
        (tmp_path / "n.csv").write_text("1,2")
        load_neural(tmp_path / "n.csv")


def random_image_features(root, model: str, images: int, areas: list[str], seed: int):
    """Features of `images` random 32 px PNGs written to `root`, from `model` with seeded weights."""
    rng = np.random.default_rng(seed)
    for i in range(images):
        Image.fromarray(rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)).save(root / f"{i:02d}.png")
    torch.manual_seed(0)
    return extract_features(create_model(model), root, root / "features.h5", areas=areas, progress=False)


@pytest.fixture(scope="module")
def features_file(tmp_path_factory):
    return random_image_features(tmp_path_factory.mktemp("stimuli"), "cornet_z", 30, ["V1", "IT"], seed=0)


@pytest.fixture(scope="module")
def neural_file(features_file):
    """Responses that are a linear map of V1 features, stimuli in another order and one not extracted left out."""
    v1 = load_layer(features_file, "V1", 0).values
    rng = np.random.default_rng(0)
    signal = v1 @ rng.normal(size=(v1.shape[1], 8))
    responses = signal[None] + 0.01 * signal.std(axis=0) * rng.normal(size=(3, *signal.shape))
    order = rng.permutation(len(v1))[:25]
    path = features_file.with_name("neural.npz")
    np.savez(path, stimulus_id=np.array(stimulus_ids(features_file))[order], responses=responses[:, order])
    return path


def test_compare_scores_every_layer_and_finds_the_right_area(features_file, neural_file):
    scores = compare_features(features_file, neural_file, method="ridge", progress=False)
    assert [s.layer for s in scores] == ["V1.output-t0", "IT.output-t0"]
    by_area = {s.area: s for s in scores}
    assert by_area["V1"].normalized > 0.8 and by_area["V1"].score > by_area["IT"].score
    assert by_area["V1"].time_bin_ms == (50.0, 150.0) and by_area["V1"].ceiling > 0.99
    rsa = compare_features(features_file, neural_file, method="rsa", bootstrap=20, progress=False)
    assert {s.area: s for s in rsa}["V1"].score > {s.area: s for s in rsa}["IT"].score
    assert all(s.ci[0] <= s.score <= s.ci[1] for s in rsa)


@pytest.fixture(scope="module")
def recurrent_features(tmp_path_factory):
    """CORnet-RT (biological unrolling) V1 and V4, five 30 ms steps from 50 ms; V4 is silent at t0 and t1."""
    return random_image_features(tmp_path_factory.mktemp("recurrent"), "cornet_rt", 36, ["V1", "V4"], seed=1)


@pytest.mark.slow
def test_time_binned_responses_are_scored_per_bin_and_matched_by_the_time_mapping(recurrent_features, tmp_path):
    """Neural bin k is a linear map of V4 at step 2 + k: the time mapping must pick that step (and V1's)."""
    bins = [(110, 140), (140, 170), (170, 200)]
    rng = np.random.default_rng(0)
    signals = []
    for step in (2, 3, 4):  # a map of the step's 4 leading principal components, which 36 stimuli pin down
        x = load_layer(recurrent_features, "V4", step).values.reshape(36, -1)
        u, s, _ = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
        signal = (u[:, :4] * s[:4]) @ rng.normal(size=(4, 6))
        signals.append(signal / signal.std())
    signal = np.stack(signals, axis=-1)  # stimulus, neuroid, bin
    responses = signal[None] + 0.01 * rng.normal(size=(3, *signal.shape))
    data = neural_data(stimulus_ids(recurrent_features), responses, time_bins_ms=bins)
    scores = compare_features(recurrent_features, data, progress=False)
    assert len(scores) == 10 * 3  # (V1 t0..t4, V4 t0..t4) x bins
    matched = {(s.neural_bin_ms, s.area): s.step for s in scores if s.time_matched}
    assert matched == {
        **{(b, "V1"): 2 + k for k, b in enumerate(bins)},
        **{(b, "V4"): 2 + k for k, b in enumerate(bins)},
    }
    for k, time_bin in enumerate(bins):
        in_bin = {s.layer: s for s in scores if s.neural_bin_ms == time_bin}
        assert in_bin[f"V4.output-t{2 + k}"].normalized > 0.8 and in_bin[f"V4.output-t{2 + k}"].ceiling > 0.99
        assert max(in_bin.values(), key=lambda s: s.value).layer == f"V4.output-t{2 + k}"
        assert in_bin["V4.output-t0"].time_bin_ms is None and not in_bin["V4.output-t0"].time_matched
    np.savez(
        tmp_path / "binned.npz", stimulus_id=stimulus_ids(recurrent_features), responses=responses, time_bin_ms=bins
    )
    folder = compare_report(recurrent_features, tmp_path / "binned.npz", tmp_path / "report", progress=False)
    report = json.loads((folder / "report.json").read_text())
    assert len(report["scores"]) == 30 and report["best_neural_bin_ms"] in [list(b) for b in bins]
    assert "Per neural time bin" in (folder / "report.md").read_text() and (folder / "scores.png").is_file()


def test_cli_compare_writes_a_report(features_file, neural_file, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["compare", str(features_file), str(neural_file), "--method", "pls", "-o", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["best_layer"] == "V1.output-t0" and len(report["scores"]) == 2
    assert (out / "scores.png").is_file() and "V1.output-t0" in (out / "report.md").read_text()
    np.savez(tmp_path / "bad.npz", stimulus_id=["nope"] * 1, responses=np.zeros((1, 2)))
    assert main(["compare", str(features_file), str(tmp_path / "bad.npz")]) == 2
    assert "not in the features" in capsys.readouterr().err


def test_scores_do_not_depend_on_the_row_order_of_the_neural_file(tmp_path, features_file):
    ids = stimulus_ids(features_file)
    rng = np.random.default_rng(3)
    responses = rng.normal(size=(2, len(ids), 6))
    order = rng.permutation(len(ids))
    np.savez(tmp_path / "a.npz", stimulus_id=np.array(ids), responses=responses)
    np.savez(tmp_path / "b.npz", stimulus_id=np.array(ids)[order], responses=responses[:, order])
    a = compare_report(features_file, tmp_path / "a.npz", tmp_path / "ra", progress=False)
    b = compare_report(features_file, tmp_path / "b.npz", tmp_path / "rb", progress=False)
    read = lambda folder: json.loads((folder / "report.json").read_text())  # noqa: E731
    assert [s["score"] for s in read(a)["scores"]] == [s["score"] for s in read(b)["scores"]]
    assert read(a)["scored"] == {
        "stimuli": len(ids),
        "feature_stimuli": len(ids),
        "neuroids": 6,
        "repetitions": 2,
        "time_bins": None,
    }
    assert f"{len(ids)} stimuli (of {len(ids)} in the features file), 6 neuroids" in (a / "report.md").read_text()
