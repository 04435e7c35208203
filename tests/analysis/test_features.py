"""Feature extraction to HDF5: equal to record(), ids in order, resumable, clear errors."""

import os
import signal
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest
import torch
from PIL import Image

from brainlike import BrainlikeError, create_model, load_images, record
from brainlike.analysis.features import (
    extract,
    extract_features,
    feature_layers,
    load_features,
    load_layer,
    merge_features,
    skipped_stimuli,
    stimulus_ids,
)
from brainlike.cli import main
from brainlike.runtime.devices import decode_workers
from tests.torchrun import torchrun_brainlike

N_IMAGES = 10


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("stimuli")
    rng = np.random.default_rng(0)
    for i in range(N_IMAGES):
        sub = root / ("b" if i % 3 == 0 else "a")
        sub.mkdir(exist_ok=True)
        pixels = rng.integers(0, 256, size=(40 + i, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(sub / f"img{i:02d}{'.jpg' if i % 2 else '.png'}")
    (root / "notes.txt").write_text("not an image")
    return root


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return create_model("cornet_z").eval()


@pytest.fixture(scope="module")
def full(folder, model, tmp_path_factory):
    path = tmp_path_factory.mktemp("full") / "features.h5"
    return extract_features(model, folder, path, batch_size=4, progress=False)


def paths_in_order(folder):
    return sorted(
        (p for p in folder.rglob("*") if p.suffix in (".jpg", ".png")), key=lambda p: p.relative_to(folder).as_posix()
    )


def assert_same_file(a, b):
    assert stimulus_ids(a) == stimulus_ids(b)
    assert feature_layers(a) == feature_layers(b)
    for area, step in feature_layers(a):
        np.testing.assert_array_equal(load_layer(a, area, step).values, load_layer(b, area, step).values)


@pytest.mark.slow
def test_unpooled_extraction_equals_record(folder, model, tmp_path):
    path = extract_features(model, folder, tmp_path / "f.h5", pool="none", batch_size=3, progress=False)
    expected = record(model, load_images(paths_in_order(folder)))
    assert feature_layers(path) == [("V1", 0), ("V2", 0), ("V4", 0), ("IT", 0)]
    for area, steps in expected.items():
        layer = load_layer(path, area, 0)
        assert layer.shape == tuple(steps[0].shape) and layer.dims == ("stimulus", "channel", "y", "x")
        np.testing.assert_allclose(layer.values, steps[0].numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("pool, workers, spare", [("avg", 1, 1), ("max", 0, 0)])
def test_pooled_extraction_equals_pooled_record(folder, model, tmp_path, monkeypatch, pool, workers, spare):
    monkeypatch.setattr(extract, "spare_cores", lambda _device: spare)  # writer in the background or inline
    path = extract_features(
        model, folder, tmp_path / "f.h5", pool=pool, areas=["IT"], batch_size=4, workers=workers, progress=False
    )
    it = record(model, load_images(paths_in_order(folder)), areas=["IT"])["IT"][0]
    expected = it.mean(dim=(2, 3)) if pool == "avg" else it.amax(dim=(2, 3))
    np.testing.assert_allclose(load_layer(path, "IT", 0).values, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_ids_are_relative_paths_in_sorted_order(folder, full):
    ids = stimulus_ids(full)
    assert ids == [p.relative_to(folder).as_posix() for p in paths_in_order(folder)]
    assert ids == sorted(ids) and len(ids) == N_IMAGES and ids[0].startswith("a/")


def test_text_file_keeps_its_order(folder, full, model, tmp_path):
    chosen = list(reversed(stimulus_ids(full)))[:5]
    listing = tmp_path / "list.txt"
    listing.write_text("# a comment\n\n" + "\n".join(str(folder / i) for i in chosen) + "\n")
    path = extract_features(model, listing, tmp_path / "f.h5", areas=["V1"], progress=False)
    assert stimulus_ids(path) == [str(folder / i) for i in chosen]
    rows = [stimulus_ids(full).index(i) for i in chosen]
    np.testing.assert_allclose(load_layer(path, "V1", 0).values, load_layer(full, "V1", 0).values[rows], rtol=1e-5)


def test_load_features_coordinates(full):
    features = load_features(full)
    assert features.dims == ("stimulus", "neuroid")
    assert features.shape == (N_IMAGES, 64 + 128 + 256 + 512)
    it = features.isel(neuroid=(features.area == "IT").values)
    assert it.shape == (N_IMAGES, 512)
    assert set(it.time_bin_ms.values) == {100.0} and set(it.time_bin_end_ms.values) == {200.0}
    assert set(it.layer.values) == {"IT.output-t0"} and list(it.channel.values[:3]) == [0, 1, 2]
    assert set(features.y.values) == {-1} and features.attrs["model"] == "cornet_z"
    assert list(features.stimulus.values) == stimulus_ids(full)
    only = load_features(full, areas=["V1"])
    np.testing.assert_array_equal(only.values, features.values[:, :64])


def test_unpooled_coordinates_index_channel_y_x(folder, model, tmp_path):
    path = extract_features(model, folder, tmp_path / "f.h5", pool="none", areas=["IT"], progress=False)
    features = load_features(path)
    layer = load_layer(path, "IT", 0)
    k = 3 * 49 + 2 * 7 + 5
    assert (features.channel.values[k], features.y.values[k], features.x.values[k]) == (3, 2, 5)
    np.testing.assert_array_equal(features.values[:, k], layer.values[:, 3, 2, 5])


class Interrupt(Exception):
    pass


def test_interrupted_extraction_resumes_to_the_same_file(folder, model, full, tmp_path):
    path = tmp_path / "f.h5"
    calls = []

    def stop_on_third_batch(_module, _inputs):
        calls.append(1)
        if len(calls) == 3:
            raise Interrupt

    handle = model.register_forward_pre_hook(stop_on_third_batch)
    try:
        with pytest.raises(Interrupt):
            extract_features(model, folder, path, batch_size=4, progress=False)
    finally:
        handle.remove()
    with h5py.File(path, "r") as f:
        assert f.attrs["rows_done"] == 8
    with pytest.raises(BrainlikeError, match="incomplete"):
        load_features(path)
    extract_features(model, folder, path, batch_size=4, progress=False)
    assert_same_file(path, full)


@pytest.mark.slow
def test_killed_process_resumes_to_the_same_file(folder, model, full, tmp_path):
    path = tmp_path / "killed.h5"
    script = textwrap.dedent(f"""
        import os, signal, threading, torch
        from brainlike import create_model
        from brainlike.analysis.features import extract_features
        torch.manual_seed(0)
        model = create_model("cornet_z").eval()
        calls = []
        def kill(_m, _i):
            calls.append(1)
            if len(calls) == 2:
                # let a background writer finish batch 1 (an inline one has), so the kill lands mid-extraction
                for writer in (t for t in threading.enumerate() if t.name == "brainlike-feature-writer"):
                    writer.jobs.join()
                os.kill(os.getpid(), signal.SIGKILL)
        model.register_forward_pre_hook(kill)
        extract_features(model, {str(folder)!r}, {str(path)!r}, batch_size=4, progress=False)
    """)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    killed = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    with h5py.File(path, "r") as f:
        assert f.attrs["rows_done"] == 4
    extract_features(model, folder, path, batch_size=4, progress=False)
    assert_same_file(path, full)


def test_a_finished_file_is_left_alone_and_a_different_one_refused(folder, model, full, tmp_path):
    before = full.stat().st_mtime_ns
    extract_features(model, folder, full, batch_size=4, progress=False)
    assert full.stat().st_mtime_ns == before
    with pytest.raises(BrainlikeError, match="different extraction.*pool"):
        extract_features(model, folder, full, pool="max", progress=False)
    path = extract_features(model, folder, tmp_path / "f.h5", areas=["V1"], progress=False)
    extract_features(model, folder, path, areas=["V2"], overwrite=True, progress=False)
    assert feature_layers(path) == [("V2", 0)]


def test_bad_input_gives_clear_errors(folder, model, tmp_path):
    with pytest.raises(BrainlikeError, match="pool must be"):
        extract_features(model, folder, tmp_path / "f.h5", pool="mean")
    with pytest.raises(BrainlikeError, match="neither a folder"):
        extract_features(model, tmp_path / "nowhere", tmp_path / "f.h5")
    with pytest.raises(BrainlikeError, match="no area 'MT'"):
        extract_features(model, folder, tmp_path / "f.h5", areas=["MT"])
    with pytest.raises(BrainlikeError, match="steps 0..0"):
        extract_features(model, folder, tmp_path / "f.h5", steps=[2])
    listing = tmp_path / "list.txt"
    listing.write_text(f"{folder / 'a/img01.jpg'}\n{folder / 'a/img01.jpg'}\n")
    with pytest.raises(BrainlikeError, match="unique"):
        extract_features(model, listing, tmp_path / "f.h5")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bad.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(BrainlikeError, match="cannot read image"):
        extract_features(model, broken, tmp_path / "g.h5", progress=False)
    with pytest.raises(BrainlikeError, match="no features file"):
        load_features(tmp_path / "missing.h5")


def test_cli_extract(folder, tmp_path, capsys):
    out = tmp_path / "cli.h5"
    assert (
        main(
            [
                "extract",
                "cornet_z",
                str(folder),
                "-o",
                str(out),
                "--pretrained",
                "false",
                "--areas",
                "V1",
                "V4",
                "--steps",
                "-1",
                "--workers",
                "0",
                "--pool",
                "max",
            ]
        )
        == 0
    )
    assert "features written" in capsys.readouterr().out
    assert feature_layers(out) == [("V1", 0), ("V4", 0)]
    assert main(["extract", "cornet_z", str(folder), "-o", str(out), "--steps", "x"]) == 2
    assert "--steps" in capsys.readouterr().err


def test_recurrent_model_stores_each_step_with_its_time_bin(folder, tmp_path):
    model = create_model("cornet_rt", times=2).eval()
    path = extract_features(model, folder, tmp_path / "rt.h5", areas=["V1", "V2"], progress=False)
    assert feature_layers(path) == [("V1", 0), ("V1", 1), ("V2", 0), ("V2", 1)]
    features = load_features(path, areas=["V2"])
    assert np.isnan(features.sel(neuroid=features.step == 0).time_bin_ms.values).all()
    assert set(features.sel(neuroid=features.step == 1).time_bin_ms.values) == {80.0}
    v2 = load_layer(path, "V2", 0)
    assert not v2.attrs["image_dependent"] and np.ptp(v2.values, axis=0).max() == 0
    assert load_layer(path, "V2", 1).attrs["image_dependent"]


def test_shards_merge_into_the_full_file(folder, model, full, tmp_path):
    listing = [folder / i for i in stimulus_ids(full)]
    shards = [
        extract_features(model, listing[lo:hi], tmp_path / f"part{k}.h5", batch_size=4, progress=False)
        for k, (lo, hi) in enumerate([(0, 3), (3, N_IMAGES)])
    ]
    merged = merge_features(shards, tmp_path / "merged.h5")
    assert stimulus_ids(merged) == [str(p) for p in listing]
    for area, step in feature_layers(full):
        np.testing.assert_allclose(
            load_layer(merged, area, step).values, load_layer(full, area, step).values, rtol=1e-5, atol=1e-6
        )
    with pytest.raises(BrainlikeError, match="exists"):
        merge_features(shards, merged)


@pytest.mark.slow
def test_torchrun_ranks_extract_shards_of_one_network(tmp_path):
    """Two gloo processes, random weights: rank 1's shard holds a copy of rank 0's first image, so
    equal features show that both ranks ran rank 0's network; rank 0 merged the shards in order."""
    root = tmp_path / "stimuli"
    root.mkdir()
    rng = np.random.default_rng(1)
    for name in ("a0", "a1", "b1"):
        Image.fromarray(rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)).save(root / f"{name}.png")
    (root / "b0.png").write_bytes((root / "a0.png").read_bytes())
    out = tmp_path / "features.h5"
    run = torchrun_brainlike(
        "extract",
        "cornet_z",
        str(root),
        "-o",
        str(out),
        "--areas",
        "V1",
        "IT",
        "--batch-size",
        "2",
        "--workers",
        "0",
        "--pretrained",
        "false",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert stimulus_ids(out) == ["a0.png", "a1.png", "b0.png", "b1.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["features.h5", "stimuli"]  # shards removed
    for area, step in feature_layers(out):
        values = load_layer(out, area, step).values
        np.testing.assert_allclose(values[2], values[0], rtol=1e-6, atol=1e-7)
        assert not np.allclose(values[1], values[0])


@pytest.mark.parametrize(
    "cores, threads, device, expected",
    [(2, 2, "cpu", 0), (2, 1, "cpu", 1), (6, 2, "cpu", 4), (64, 8, "cpu", 8), (6, 6, "cuda", 5), (2, 2, "cuda:1", 1)],
)
def test_default_decode_workers_use_the_cores_the_model_leaves_free(monkeypatch, cores, threads, device, expected):
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)), raising=False)
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
    assert decode_workers(device) == expected


def test_resuming_with_other_weights_is_refused_and_random_weights_are_seeded(folder, tmp_path):
    path = tmp_path / "part.h5"
    first = extract_features("cornet_z", folder, path, areas=["V1"], pretrained=False, progress=False)
    again = extract_features("cornet_z", folder, tmp_path / "again.h5", areas=["V1"], pretrained=False, progress=False)
    assert np.array_equal(load_layer(first, "V1", 0).values, load_layer(again, "V1", 0).values)
    with h5py.File(path, "r+") as f:  # as if interrupted after the first rows
        f.attrs["rows_done"] = 1
    with pytest.raises(BrainlikeError, match="weights_sha256"):
        extract_features("cornet_z", folder, path, areas=["V1"], pretrained=False, seed=1, progress=False)


def test_unreadable_images_are_skipped_on_request_as_nan_rows(folder, model, full, tmp_path):
    mixed = tmp_path / "mixed"
    for path in paths_in_order(folder):
        copy = mixed / path.relative_to(folder)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(path.read_bytes())
    ids = stimulus_ids(full)
    broken = ids[3]
    (mixed / broken).write_bytes(b"not an image")
    with pytest.raises(BrainlikeError, match="cannot read image .*--skip-bad"):
        extract_features(model, mixed, tmp_path / "stops.h5", batch_size=4, progress=False)
    path = extract_features(model, mixed, tmp_path / "f.h5", batch_size=4, skip_bad=True, progress=False)
    assert skipped_stimuli(path) == [broken] and stimulus_ids(path) == ids
    keep = [i for i in range(len(ids)) if i != 3]
    for area, step in feature_layers(path):
        ours, reference = load_layer(path, area, step).values, load_layer(full, area, step).values
        assert np.isnan(ours[3]).all()
        np.testing.assert_allclose(ours[keep], reference[keep], rtol=1e-5, atol=1e-6)
