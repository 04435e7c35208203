"""Extraction of module paths, readouts and streams: equal to record(), the same coordinates as areas,
part of the fingerprint, and reachable from `brainlike extract`."""

import h5py
import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from brainlike import BrainlikeError, load_images, record
from brainlike.analysis.features import extract_features, feature_layers, load_features, load_layer
from brainlike.cli import main
from brainlike.registry import Area, ModelCard


class TwoStreams(nn.Module):
    """A two-step recurrent net with a bottom-up and a top-down tap per area (as BLT-VS has), three readouts."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.lateral = nn.Conv2d(4, 4, 3, padding=1)
        self.feedback = nn.Conv2d(4, 4, 1)
        self.bu, self.td = nn.Identity(), nn.Identity()
        self.head = nn.Linear(4, 3)

    def readouts(self, x):
        drive, state, logits = self.stem(x), 0, []
        for _ in range(3):
            state = self.bu(torch.relu(self.lateral(drive + state)))
            state = state + self.td(self.feedback(state))
            logits.append(self.head(state.mean(dim=(2, 3))))
        return logits

    def forward(self, x):
        return self.readouts(x)[-1]


def two_streams():
    torch.manual_seed(0)
    model = TwoStreams()
    area = Area("V1", {"bu": "bu", "td": "td"}, ((50, 60), (60, 70), (70, 80)))
    model.card = ModelCard("two_streams", "test", (area,), 32, 4.0, 3, "imagenet", "", readout_steps=3)
    return model


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("stimuli")
    rng = np.random.default_rng(1)
    for i in range(5):
        Image.fromarray(rng.integers(0, 256, (36, 40, 3), dtype=np.uint8)).save(root / f"im{i}.png")
    return root


def images(folder, size=32):
    return load_images(sorted(folder.iterdir()), "imagenet", size)


def test_streams_layers_and_readouts_equal_record(folder, tmp_path):
    model = two_streams()
    path = extract_features(
        model,
        folder,
        tmp_path / "f.h5",
        areas=["V1"],
        stream="all",
        layers=["lateral"],
        readouts=True,
        pool="none",
        batch_size=2,
        progress=False,
    )
    steps = [("V1.bu", t) for t in range(3)] + [("V1.td", t) for t in range(3)]
    assert feature_layers(path) == steps + [("lateral", t) for t in range(3)] + [("readout", t) for t in range(3)]
    x = images(folder)
    expected = record(model, x, areas=["V1"], stream="all", layers=["lateral"], readouts=True)
    for (area, step), key in zip(
        feature_layers(path), ["V1.bu"] * 3 + ["V1.td"] * 3 + ["lateral"] * 3 + ["readout"] * 3
    ):
        np.testing.assert_allclose(load_layer(path, area, step).values, expected[key][step].numpy(), atol=1e-6)
    torch.testing.assert_close(expected["readout"][2], model(x))
    td = load_layer(path, "V1.td", 1)
    assert td.attrs["kind"] == "area" and td.attrs["stream"] == "td" and td.attrs["module"] == "td"
    assert td.attrs["time_bin_ms"] == (60.0, 70.0)
    readout = load_layer(path, "readout", 2)
    assert readout.attrs["kind"] == "readout" and readout.dims == ("stimulus", "channel") and readout.shape == (5, 3)
    assert np.isnan(readout.attrs["time_bin_ms"][0])


def test_load_features_carries_kind_and_stream(folder, tmp_path):
    model = two_streams()
    path = extract_features(
        model, folder, tmp_path / "f.h5", stream="td", layers=["stem"], readouts=True, steps=[-1], progress=False
    )
    assert feature_layers(path) == [("V1.td", 2), ("stem", 0), ("readout", 2)]
    features = load_features(path)
    assert features.shape == (5, 4 + 4 + 3)
    assert list(features.kind.values) == ["area"] * 4 + ["layer"] * 4 + ["readout"] * 3
    assert list(features.stream.values) == ["td"] * 4 + [""] * 7
    assert list(features.step.values) == [2] * 4 + [0] * 4 + [2] * 3
    assert load_features(path, kinds=["readout"]).shape == (5, 3)
    assert list(features.stimulus.values) == sorted(p.name for p in folder.iterdir())


def test_layers_replace_the_default_areas_and_a_card_without_areas_points_to_them(folder, tmp_path):
    from dataclasses import replace

    model = two_streams()
    only = extract_features(model, folder, tmp_path / "a.h5", layers=["stem"], progress=False)
    assert feature_layers(only) == [("stem", 0)]
    model.card = replace(model.card, areas=())
    with pytest.raises(BrainlikeError, match=r"no areas to extract: two_streams commits none; read module paths"):
        extract_features(model, folder, tmp_path / "b.h5", progress=False)
    assert feature_layers(extract_features(model, folder, tmp_path / "c.h5", readouts=True, progress=False)) == [
        ("readout", t) for t in range(3)
    ]


def test_the_fingerprint_includes_layers_readouts_and_streams(folder, tmp_path):
    model = two_streams()
    path = tmp_path / "f.h5"
    extract_features(model, folder, path, layers=["stem"], progress=False)
    for changed in (dict(layers=["lateral"]), dict(layers=["stem"], readouts=True), dict(stream="td")):
        with pytest.raises(BrainlikeError, match=r"holds a different extraction \(layers differ\)"):
            extract_features(model, folder, path, progress=False, **changed)
    extract_features(model, folder, path, layers=["stem"], progress=False)  # the same extraction: nothing to do
    with h5py.File(path, "r") as handle:
        assert handle["features/stem/t0"].attrs["kind"] == "layer"


def test_an_interrupted_layer_extraction_resumes_to_the_same_file(folder, tmp_path):
    model = two_streams()
    whole = extract_features(model, folder, tmp_path / "whole.h5", layers=["lateral"], readouts=True, progress=False)
    part = tmp_path / "part.h5"
    extract_features(model, folder, part, layers=["lateral"], readouts=True, batch_size=2, progress=False)
    with h5py.File(part, "r+") as handle:
        handle.attrs["rows_done"] = 2  # as if stopped after the first batch
        for key in ("features/lateral/t1", "features/readout/t0"):
            handle[key][2:] = 0
    extract_features(model, folder, part, layers=["lateral"], readouts=True, batch_size=2, progress=False)
    for area, step in feature_layers(whole):
        np.testing.assert_allclose(load_layer(part, area, step).values, load_layer(whole, area, step).values, atol=1e-6)


def test_mistakes_are_one_clear_line(folder, tmp_path):
    model = two_streams()
    with pytest.raises(BrainlikeError, match=r"has no submodule 'laterl'; closest: lateral"):
        extract_features(model, folder, tmp_path / "f.h5", layers=["laterl"], progress=False)
    with pytest.raises(BrainlikeError, match=r"area V1 has streams bu, td, not 'output'"):
        extract_features(model, folder, tmp_path / "f.h5", stream="output", progress=False)
    with pytest.raises(BrainlikeError, match=r"stem has steps 0\.\.0; asked for \[1\]"):
        extract_features(model, folder, tmp_path / "f.h5", layers=["stem"], steps=[1], progress=False)


def test_cli_layers_readouts_and_stream_words(folder, tmp_path, capsys):
    import brainlike.analysis.features.extract as extract

    model = two_streams()
    seen = {}

    def fake_create(name, pretrained=False):
        seen["name"] = name
        return model

    monkey = pytest.MonkeyPatch()
    monkey.setattr(extract, "create_model", fake_create)
    try:
        out = tmp_path / "cli.h5"
        argv = ["extract", "two_streams", str(folder), "-o", str(out), "--layers", "stem,lateral", "--readouts"]
        code = main(argv + ["--stream", "top-down", "--areas", "V1", "--steps", "-1", "--pretrained", "false"])
    finally:
        monkey.undo()
    assert code == 0 and seen["name"] == "two_streams"
    assert feature_layers(out) == [("V1.td", 2), ("stem", 0), ("lateral", 2), ("readout", 2)]
    assert "features written to" in capsys.readouterr().out


@pytest.mark.slow
def test_blt_vs_top_down_stream_from_the_command_line(folder, tmp_path):
    from brainlike import create_model

    out = tmp_path / "blt.h5"
    argv = ["extract", "blt_vs_imagenet_128", str(folder), "-o", str(out), "--pretrained", "false", "--areas", "V1"]
    assert main(argv + ["--stream", "all", "--steps", "-1", "--readouts", "--workers", "0"]) == 0
    assert feature_layers(out) == [("V1.bu", 5), ("V1.td", 5), ("readout", 5)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # the network extract builds with --pretrained false and seed 0
        model = create_model("blt_vs_imagenet_128")
    x = load_images(sorted(folder.iterdir()), model.card.preprocessing, model.card.input_size)
    expected = record(model, x, areas=["V1"], stream="all", steps=[-1], pool="avg", readouts=True)
    np.testing.assert_allclose(load_layer(out, "V1.td", 5).values, expected["V1.td"][0].numpy(), atol=1e-4)
    np.testing.assert_allclose(load_layer(out, "readout", 5).values, expected["readout"][5].numpy(), atol=1e-4)
    assert load_layer(out, "V1.td", 5).attrs["stream"] == "td"
