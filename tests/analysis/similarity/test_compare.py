"""compare_models over every (area, step) pair: blocked and spilled computation, bootstrap, files, ids, trajectories."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from brainlike import BrainlikeError, create_model
from brainlike.analysis.features import extract_features, load_layer, stimulus_ids
from brainlike.analysis.similarity import (
    compare_models,
    estimators,
    linear_cka,
    procrustes_distance,
    rsa_similarity,
    similarity_report,
    sources,
    step_trajectories,
)
from brainlike.analysis.similarity import gram as gram_module
from brainlike.cli import main
from tests.analysis.similarity.test_cka import direct_linear_cka, direct_unbiased_hsic


def recurrent_set(seed=0, stimuli=24):
    """(area, step) -> features of a fake recurrent model: V1 settles over 3 steps, IT over 2 (4-D features)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(stimuli, 10))
    noise = rng.normal(size=base.shape)
    v1 = [base + 0.5**t * noise for t in range(3)]
    it = [np.tanh(base @ rng.normal(size=(10, 2 * 3 * 3))).reshape(stimuli, 2, 3, 3) + 0.1 * t for t in range(2)]
    return {**{("V1", t): v for t, v in enumerate(v1)}, **{("IT", t): v for t, v in enumerate(it)}}


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Blocks of 3 feature columns and bands of 5 rows, so every loop runs many times."""
    monkeypatch.setattr(sources, "BLOCK_BYTES", 3 * 24 * 4)
    monkeypatch.setattr(gram_module, "ROW_BLOCK", 5)
    monkeypatch.setattr(estimators, "ROW_BLOCK", 5)


def flat(features):
    return {k: np.asarray(v).reshape(len(v), -1) for k, v in features.items()}


@pytest.mark.parametrize("memory_gb", [2.0, 0.0])  # 0: every Gram matrix goes to a memory-mapped file
def test_blocked_results_equal_direct_computation(tiny_blocks, memory_gb):
    a, b = recurrent_set(0), recurrent_set(1)
    fa, fb = flat(a), flat(b)
    for method, direct in [
        ("cka", direct_linear_cka),
        ("procrustes", procrustes_distance),
        ("rsa", rsa_similarity),
    ]:
        result = compare_models(a, b, method=method, bootstrap=0, memory_gb=memory_gb, progress=False)
        expected = np.array([[direct(fa[i], fb[j]) for j in fb] for i in fa])
        np.testing.assert_allclose(result.values, expected, rtol=1e-9, atol=1e-6)
        assert [k.name for k in result.a_layers][:2] == ["V1.output-t0", "V1.output-t1"]
        assert result.ci_low is None
    debiased = compare_models(a, b, debiased=True, bootstrap=0, memory_gb=memory_gb, progress=False)
    x, y = fa[("V1", 2)], fb[("IT", 1)]
    xc, yc = x - x.mean(0), y - y.mean(0)
    k, l_ = xc @ xc.T, yc @ yc.T
    expected = direct_unbiased_hsic(k, l_) / np.sqrt(direct_unbiased_hsic(k, k) * direct_unbiased_hsic(l_, l_))
    assert debiased.value("V1.output-t2", "IT.output-t1") == pytest.approx(expected, rel=1e-9)


def test_bootstrap_intervals_are_percentiles_over_resampled_stimuli():
    a, b = recurrent_set(0), recurrent_set(1)
    fa, fb = flat(a), flat(b)
    result = compare_models(a, b, bootstrap=50, seed=3, confidence=0.9, progress=False)
    rng = np.random.default_rng(3)
    picks = [rng.integers(0, 24, size=24) for _ in range(50)]
    x, y = fa[("V1", 1)], fb[("IT", 0)]
    samples = [direct_linear_cka(x[p], y[p]) for p in picks]
    i, j = 1, 3
    assert result.values[i, j] == pytest.approx(direct_linear_cka(x, y))
    assert result.ci_low[i, j] == pytest.approx(np.quantile(samples, 0.05))
    assert result.ci_high[i, j] == pytest.approx(np.quantile(samples, 0.95))
    assert result.ci_low[i, j] < result.ci_high[i, j]
    # debiased: in a resample, a stimulus paired with its own copy is left out
    debiased = compare_models(a, b, debiased=True, bootstrap=5, seed=3, confidence=0.5, progress=False)
    resampled = []
    for p in picks[:5]:
        xs, ys = x[p] - x[p].mean(0), y[p] - y[p].mean(0)
        same = p[:, None] == p[None, :]
        k, l_ = np.where(same, 0, xs @ xs.T), np.where(same, 0, ys @ ys.T)
        resampled.append(
            direct_unbiased_hsic(k, l_) / np.sqrt(direct_unbiased_hsic(k, k) * direct_unbiased_hsic(l_, l_))
        )
    assert debiased.ci_low[i, j] == pytest.approx(np.quantile(resampled, 0.25), rel=1e-9)


def test_procrustes_and_rsa_bootstrap_give_intervals():
    a, b = recurrent_set(0), recurrent_set(1)
    for method in ("procrustes", "rsa"):
        result = compare_models(a, b, method=method, bootstrap=20, progress=False, layers_a=["V1"], layers_b=["IT"])
        assert result.values.shape == (3, 2) and np.all(result.ci_low <= result.ci_high)
        assert result.higher_is_similar == (method == "rsa")
        frame = result.frame()
        assert len(frame) == 6 and set(frame.a_area) == {"V1"} and frame.ci_low.notna().all()


def test_step_trajectories_of_a_recurrent_model():
    curves = {t.area: t for t in step_trajectories(recurrent_set(0), bootstrap=0, progress=False)}
    assert set(curves) == {"V1", "IT"} and curves["V1"].steps == [0, 1, 2]
    v1 = curves["V1"]
    assert v1.to_first[0] == pytest.approx(1.0) and v1.to_last[-1] == pytest.approx(1.0)
    assert v1.to_last[0] < v1.to_last[1] < 1.0  # V1 settles towards its last step
    assert v1.to_first[2] == pytest.approx(v1.to_last[0])


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    """Features of 14 random images from cornet_z, and from another cornet_z over 12 of them in another order."""
    root = tmp_path_factory.mktemp("stimuli")
    rng = np.random.default_rng(0)
    for i in range(14):
        Image.fromarray(rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)).save(root / f"{i:02d}.png")
    torch.manual_seed(0)
    a = extract_features(create_model("cornet_z"), root, root / "a.h5", areas=["V1", "IT"], progress=False)
    listing = root / "some.txt"
    listing.write_text("\n".join(f"{i:02d}.png" for i in [5, 3, 11, 0, 1, 2, 13, 12, 9, 8, 7, 6]))
    torch.manual_seed(1)
    b = extract_features(create_model("cornet_z"), listing, root / "b.h5", areas=["V1", "V4"], progress=False)
    return a, b


def test_files_are_matched_by_stimulus_id(two_files):
    a, b = two_files
    result = compare_models(a, b, bootstrap=0, progress=False)
    assert result.stimuli == 12 and (result.a, result.b) == ("a", "b")
    va, vb = load_layer(a, "IT", 0), load_layer(b, "V4", 0)
    x = va.sel(stimulus=list(vb.stimulus.values)).values
    assert result.value("IT.output-t0", "V4.output-t0") == pytest.approx(linear_cka(x, vb.values), rel=1e-6)
    swapped = compare_models(b, a, bootstrap=0, progress=False)
    np.testing.assert_allclose(swapped.values, result.values.T, rtol=1e-9)


def test_mismatched_stimuli_give_clear_errors(two_files):
    a, _ = two_files
    other = {"x": np.zeros((3, 2))}
    with pytest.raises(BrainlikeError, match="3 of 3 stimulus ids of features are not in a"):
        compare_models(a, other, progress=False)
    with pytest.raises(BrainlikeError, match="has no layer 'V9'"):
        compare_models(a, a, layers_a=["V9"], progress=False)
    with pytest.raises(BrainlikeError, match="method must be one of"):
        compare_models(a, a, method="ridge", progress=False)
    with pytest.raises(BrainlikeError, match="same stimuli; row counts"):
        compare_models({"x": np.zeros((4, 2)), "y": np.zeros((5, 2))}, a, progress=False)


@pytest.mark.slow
def test_similarity_report_has_matrix_trajectories_rdms_and_mds(tmp_path):
    ids = [f"img{i}" for i in range(24)]
    from brainlike.analysis.similarity import FeatureSet

    a = FeatureSet(recurrent_set(0), label="rec", stimulus_ids=ids)
    b = FeatureSet({k: v for k, v in recurrent_set(1).items() if k[0] == "IT"}, label="other", stimulus_ids=ids)
    folder = similarity_report(a, b, tmp_path / "report", bootstrap=10, progress=False)
    report = json.loads((folder / "report.json").read_text())
    assert np.array(report["values"]).shape == (5, 2) and report["stimuli"] == 24
    assert [t["area"] for t in report["trajectories"]["rec"]] == ["V1", "IT"]
    for name in ("similarity.png", "rdms.png", "mds.png", "trajectory_rec.png", "trajectory_other.png"):
        assert (folder / name).is_file(), name
    assert "Best match per rec layer" in (folder / "report.md").read_text()


@pytest.mark.slow
def test_cli_compare_two_feature_files(two_files, tmp_path, capsys):
    a, b = two_files
    out = tmp_path / "cka"
    assert main(["compare", str(a), str(b), "--method", "cka", "--bootstrap", "5", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "IT.output-t0" in printed and "report written" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["method"] == "cka" and np.array(report["values"]).shape == (2, 2)
    assert (
        main(["compare", str(a), str(b), "--method", "procrustes", "--bootstrap", "0", "-o", str(tmp_path / "p")]) == 0
    )
    assert main(["compare", str(a), str(b), "--method", "ridge"]) == 2
    assert "between two features files" in capsys.readouterr().err
    neural = tmp_path / "n.npz"
    np.savez(neural, stimulus_id=stimulus_ids(b), responses=np.ones((12, 3)))
    assert main(["compare", str(a), str(neural), "--method", "cka"]) == 2
    assert "compares two features files" in capsys.readouterr().err
