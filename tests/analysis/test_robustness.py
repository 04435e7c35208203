"""Common corruptions: properties of each corruption, the batched versions, mCE arithmetic, reports."""

import json

import numpy as np
import pytest
import torch

from brainlike import BrainlikeError, create_model
from brainlike.analysis.corruptions import BATCHED, CORRUPTIONS, corrupt, corrupt_batch
from brainlike.analysis.robustness import (
    RobustnessResult,
    corruption_errors,
    measure_robustness,
    read_baseline,
    relative_corruption_errors,
    write_robustness_report,
)
from brainlike.data.digits import digits
from brainlike.data.photos import embedded_photos
from brainlike.runtime import evaluation

# Pairs (corruption, severity s) whose published constants make severity s+1 a little milder than s
# on average (glass blur: 3 iterations at severity 3, 2 at 4; frost: less image weight; fog).
NOT_MONOTONE = {("glass_blur", 3), ("frost", 3), ("fog", 3)}


@pytest.fixture(scope="module")
def photos():
    names = ("astronaut", "coffee")
    return [np.array(image.resize((64, 64))) for image in embedded_photos(names).values()]


def _distance(a, b) -> float:
    return float(np.abs(a.astype(float) - b.astype(float)).mean())


@pytest.mark.slow
@pytest.mark.parametrize("name", CORRUPTIONS)
def test_corruption_properties(name, photos):
    image = photos[0]
    out = corrupt(image, name, 3, seed=1)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert _distance(out, image) > 1
    assert np.array_equal(out, corrupt(image, name, 3, seed=1))
    distances = [
        np.mean([_distance(corrupt(p, name, s, seed=k), p) for p in photos for k in range(2)]) for s in range(1, 6)
    ]
    assert distances[4] > distances[0]
    for s in range(1, 5):
        if (name, s) in NOT_MONOTONE:
            assert distances[s] > 0.95 * distances[s - 1]
        else:
            assert distances[s] > distances[s - 1], (name, s, distances)


def test_seeds_matter_and_global_numpy_state_is_untouched(photos):
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    a = corrupt(photos[0], "gaussian_noise", 2, seed=1)
    assert np.random.rand() == expected
    assert not np.array_equal(a, corrupt(photos[0], "gaussian_noise", 2, seed=2))
    assert not np.array_equal(
        corrupt(photos[0], "impulse_noise", 2, seed=1), corrupt(photos[0], "impulse_noise", 2, seed=2)
    )


@pytest.mark.parametrize("name", ["contrast", "brightness", "defocus_blur"])
def test_batched_deterministic_corruptions_equal_the_reference(name, photos):
    batch = torch.from_numpy(np.stack(photos)).permute(0, 3, 1, 2)
    for severity in (1, 3, 5):
        ours = corrupt_batch(batch, name, severity, seeds=[0, 0]).permute(0, 2, 3, 1).numpy().astype(int)
        for image, mine in zip(photos, ours):
            reference = corrupt(image, name, severity, seed=0).astype(int)
            assert np.abs(mine - reference).max() <= 1  # float rounding before truncation to uint8


@pytest.mark.parametrize("name", ["gaussian_noise", "shot_noise", "impulse_noise"])
def test_batched_noise_matches_the_reference_in_distribution(name, photos):
    image = photos[0]
    batch = torch.from_numpy(image).permute(2, 0, 1)[None].repeat(8, 1, 1, 1)
    for severity in (1, 5):
        ours = corrupt_batch(batch, name, severity, seeds=list(range(8))).permute(0, 2, 3, 1).numpy()
        reference = np.stack([corrupt(image, name, severity, seed=k) for k in range(8)])
        ours_d, ref_d = _distance(ours, batch.permute(0, 2, 3, 1).numpy()), _distance(reference, image[None])
        assert ours_d == pytest.approx(ref_d, rel=0.04)


def test_batched_noise_does_not_depend_on_batch_composition(photos):
    batch = torch.from_numpy(np.stack(photos)).permute(0, 3, 1, 2)
    together = corrupt_batch(batch, "gaussian_noise", 2, seeds=[5, 6])
    alone = corrupt_batch(batch[1:], "gaussian_noise", 2, seeds=[6])
    assert torch.equal(together[1:], alone)


def test_bad_names_and_severities():
    image = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(BrainlikeError, match="unknown corruption 'rain'"):
        corrupt(image, "rain", 1, seed=0)
    with pytest.raises(BrainlikeError, match="severity must be 1-5"):
        corrupt(image, "fog", 6, seed=0)
    with pytest.raises(BrainlikeError, match="at least 32x32"):
        corrupt(np.zeros((16, 16, 3), np.uint8), "fog", 1, seed=0)
    assert set(BATCHED) <= set(CORRUPTIONS)


def test_mce_arithmetic_on_a_hand_made_table():
    model = {"fog": {1: 0.2, 2: 0.4}, "snow": {1: 0.5, 2: 0.7}}
    baseline = {"fog": {1: 0.4, 2: 0.6}, "snow": {1: 0.6, 2: 0.8}}
    ce = corruption_errors(model, baseline)
    assert ce == pytest.approx({"fog": 0.6, "snow": 12 / 14})
    rce = relative_corruption_errors(model, 0.1, baseline, 0.2)
    assert rce == pytest.approx({"fog": (0.1 + 0.3) / (0.2 + 0.4), "snow": (0.4 + 0.6) / (0.4 + 0.6)})
    with pytest.raises(BrainlikeError, match="no results for snow"):
        corruption_errors(model, {"fog": baseline["fog"]})


def test_baseline_file_formats(tmp_path):
    listed = tmp_path / "alexnet.json"
    listed.write_text(json.dumps({"clean_error": 0.43, "errors": {"fog": [0.5, 0.6, 0.7, 0.8, 0.9]}}))
    errors, clean = read_baseline(listed)
    assert errors == {"fog": {1: 0.5, 2: 0.6, 3: 0.7, 4: 0.8, 5: 0.9}} and clean == 0.43
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    with pytest.raises(BrainlikeError, match="not a results file"):
        read_baseline(broken)
    percent = tmp_path / "percent.json"
    percent.write_text(json.dumps({"errors": {"fog": [50, 60]}}))
    with pytest.raises(BrainlikeError, match="fractions in"):
        read_baseline(percent)


@pytest.fixture(scope="module")
def small_run():
    model = create_model("cornet_z", num_classes=10)
    return model, digits("val", size=32)


@pytest.mark.slow
def test_report_has_every_cell_and_resumes_after_an_interruption(small_run, tmp_path, monkeypatch):
    model, data = small_run
    settings = dict(corruptions=["gaussian_noise", "pixelate"], severities=[1, 4], limit=24, batch_size=8)
    uninterrupted = measure_robustness(model, data, **settings)

    state = tmp_path / "cells.json"

    calls = {"n": 0}
    original = evaluation.run_evaluation

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(evaluation, "run_evaluation", dying)
    with pytest.raises(KeyboardInterrupt):
        measure_robustness(model, data, state_path=state, **settings)
    assert len(json.loads(state.read_text())["cells"]) == 2
    monkeypatch.setattr(evaluation, "run_evaluation", original)
    resumed = measure_robustness(model, data, state_path=state, **settings)
    assert resumed == uninterrupted

    baseline = tmp_path / "baseline.json"
    baseline.write_text(
        json.dumps({"clean_error": 0.5, "errors": {"gaussian_noise": [0.9] * 5, "pixelate": [0.8] * 5}})
    )
    folder = write_robustness_report(resumed, tmp_path / "report", baseline=baseline)
    payload = json.loads((tmp_path / "report" / "report.json").read_text())
    assert set(payload["errors"]) == {"gaussian_noise", "pixelate"}
    assert all(set(cells) == {"1", "4"} for cells in payload["errors"].values())
    assert "mce" in payload and "relative_mce" in payload
    assert (tmp_path / "report" / "robustness_heatmap.png").is_file()
    markdown = (folder / "report.md").read_text()
    assert "| gaussian_noise |" in markdown and "| pixelate |" in markdown and "sev 4 top-1 %" in markdown


def test_other_settings_in_the_state_file_are_refused(small_run, tmp_path):
    model, data = small_run
    state = tmp_path / "cells.json"
    measure_robustness(model, data, corruptions=["contrast"], severities=[1], limit=8, state_path=state)
    with pytest.raises(BrainlikeError, match="holds a run with other settings"):
        measure_robustness(model, data, corruptions=["contrast"], severities=[1], limit=9, state_path=state)


def test_result_errors_use_the_last_readout_step():
    result = RobustnessResult("m", 10, clean=[0.5, 0.9], top1={"fog": {1: [0.2, 0.6]}})
    assert result.errors() == {"fog": {1: pytest.approx(0.4)}} and result.clean_error() == pytest.approx(0.1)
    assert result.errors(step=0) == {"fog": {1: pytest.approx(0.8)}}


def test_result_frame_has_a_row_per_cell_and_step():
    result = RobustnessResult("m", 10, clean=[0.5, 0.9], top1={"fog": {1: [0.2, 0.6], 3: [0.1, 0.3]}})
    frame = result.frame()
    assert len(frame) == 6 and set(frame.corruption) == {"clean", "fog"}
    assert frame.query("corruption == 'fog' and severity == 3 and readout_step == 1").top1.item() == 0.3


def test_a_folder_made_with_other_weights_is_not_reused(small_run, tmp_path):
    model, data = small_run
    state = tmp_path / "cells.json"
    measure_robustness(model, data, corruptions=["contrast"], severities=[1], limit=8, state_path=state)
    other = create_model("cornet_z", num_classes=10)
    with pytest.raises(BrainlikeError, match="weights_sha256"):
        measure_robustness(other, data, corruptions=["contrast"], severities=[1], limit=8, state_path=state)
