"""Any PyTorch model in, any layer out, end to end and offline with random weights: torchvision's ResNet-18 and
AlexNet, and a researcher's own two-step recurrent network wrapped with `brainlike.wrap`, through record,
extract (areas, module paths, readouts), compare, v1, robustness and info."""

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from brainlike import create_model, load_images, record, wrap
from brainlike.analysis.features import feature_layers, load_features, load_layer
from brainlike.cli import main

MODELS = {"torchvision:resnet18": "layer3.1.conv2", "torchvision:alexnet": "features.10"}
IMAGES = 12
V1_PIXELS = {"torchvision:resnet18": 36, "torchvision:alexnet": 68}
README = Path(__file__).resolve().parent.parent / "README.md"


def write_images(folder: Path, count: int = IMAGES, seed: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = [folder / f"im{i:02d}.png" for i in range(count)]
    for path in paths:
        Image.fromarray(rng.integers(0, 256, (48, 56, 3), dtype=np.uint8)).save(path)
    return paths


def write_neural(path: Path, ids, features: np.ndarray, *, neuroids: int = 8, seed: int = 0, time_bins=None) -> Path:
    """Two noisy repetitions of a random linear map of `features` (stimulus, units) for the stimuli `ids`."""
    rng = np.random.default_rng(seed)
    clean = features @ rng.standard_normal((features.shape[1], neuroids))
    responses = clean[None] + 0.5 * clean.std(axis=0) * rng.standard_normal((2, len(ids), neuroids))
    if time_bins is not None:  # the same responses in every bin, scaled
        responses = np.stack([responses * (k + 1) for k in range(len(time_bins))], axis=-1)
        np.savez(path, stimulus_id=np.array(ids), responses=responses, time_bin_ms=np.array(time_bins, dtype=float))
    else:
        np.savez(path, stimulus_id=np.array(ids), responses=responses)
    return path


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stimuli")
    return folder, write_images(folder)


def seeded(name: str):
    """The network `brainlike extract NAME --pretrained false` builds (random weights drawn from seed 0)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return create_model(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_extract_areas_layers_and_readouts_then_compare(name, images, tmp_path, capsys):
    folder, paths = images
    layer = MODELS[name]
    features = tmp_path / "features.h5"
    argv = ["extract", name, str(folder), "-o", str(features), "--pretrained", "false", "--areas", "V1", "IT"]
    assert main(argv + ["--layers", layer, "--readouts", "--batch-size", "5", "--workers", "0"]) == 0
    assert feature_layers(features) == [("V1", 0), ("IT", 0), (layer, 0), ("readout", 0)]

    model = seeded(name)
    x = load_images(paths, model.card.preprocessing, model.card.input_size)
    expected = record(model, x, areas=["V1", "IT"], layers=[layer], readouts=True, pool="avg")
    for (area, step), key in zip(feature_layers(features), ["V1", "IT", layer, "readout"]):
        np.testing.assert_allclose(load_layer(features, area, step).values, expected[key][0].numpy(), atol=2e-4)
    assert load_layer(features, "readout", 0).shape == (IMAGES, 1000)
    table = load_features(features)
    assert set(table.kind.values) == {"area", "layer", "readout"} and table.shape[0] == IMAGES

    ids = [p.name for p in paths]
    neural = write_neural(tmp_path / "it.npz", ids, expected["IT"][0].numpy())
    report = tmp_path / "report"
    assert main(["compare", str(features), str(neural), "--method", "ridge", "-o", str(report)]) == 0
    scores = json.loads((report / "report.json").read_text())["scores"]
    assert [s["layer"] for s in scores] == ["V1.output-t0", "IT.output-t0", f"{layer}.output-t0", "readout.output-t0"]
    assert all(np.isfinite(s["score"]) for s in scores)
    assert "report written to" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_info_lists_areas_parameters_and_the_source_of_the_commitment(name, capsys):
    assert main(["info", name, "--input-size", "96"]) == 0
    text = capsys.readouterr().out
    assert all(f"| {area} |" in text for area in ("V1", "V2", "V4", "IT"))
    reference = sum(p.numel() for p in create_model(name).parameters())
    assert f"parameters {reference:,}" in text
    assert ("Brain-Score" if name.endswith("alexnet") else "(ours)") in text


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_v1_on_a_reduced_unit_count(name):
    from brainlike.analysis import measure_v1

    model = seeded(name)
    # the same 8 degrees on fewer pixels, at a size whose V1 map has a unit at the centre of the image
    model.card = replace(model.card, input_size=V1_PIXELS[name])
    result = measure_v1(model, max_units=12, batch_size=128)
    assert len(result.selection.units) == 12 and result.area == "V1"
    table = result.frame()
    assert len(table) > 0 and table["score"].notna().any()


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_robustness_under_two_corruptions(name):
    from brainlike.analysis import measure_robustness
    from brainlike.data.digits import digits

    model = create_model(name, num_classes=10)
    result = measure_robustness(
        model,
        digits("val", size=32),
        corruptions=["gaussian_noise", "fog"],
        severities=[1],
        limit=8,
        batch_size=8,
        input_size=64,
        workers=0,
        progress=False,
    )
    table = result.frame()
    assert {"gaussian_noise", "fog"} <= set(table["corruption"]) and np.isfinite(table["top1"]).all()


# ----------------------------------------------------------------------------- a researcher's own model


class Block(nn.Module):
    """A convolution of the input plus a lateral one of the block's previous output."""

    def __init__(self, inputs: int, outputs: int, stride: int):
        super().__init__()
        self.conv = nn.Conv2d(inputs, outputs, 3, stride=stride, padding=1)
        self.lateral = nn.Conv2d(outputs, outputs, 3, padding=1)

    def forward(self, x, state=None):
        drive = self.conv(x)
        return torch.relu(drive if state is None else drive + self.lateral(state))


class TwoStepNet(nn.Module):
    """Two areas unrolled for two time steps: each block runs twice per forward pass."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.v1, self.it = Block(3, 16, 4), Block(16, 32, 2)
        self.head = nn.Linear(32, classes)

    def forward(self, x):
        v1 = it = None
        for _ in range(2):
            v1 = self.v1(x, v1)
            it = self.it(v1, it)
        return self.head(it.mean(dim=(2, 3)))


def wrapped():
    torch.manual_seed(0)
    return wrap(TwoStepNet(), name="two_step_net", areas={"V1": "v1", "IT": "it"}, input_size=64)


@pytest.mark.slow
def test_a_wrapped_recurrent_model_has_two_steps_per_area_and_extracts_what_record_gives(tmp_path):
    model = wrapped()
    assert [(a.name, a.steps, a.region) for a in model.card.areas] == [("V1", 2, "V1"), ("IT", 2, "IT")]
    paths = write_images(tmp_path / "images", count=10)
    x = load_images(paths, "imagenet", 64)
    acts = record(model, x, layers=["it.lateral"], areas=["V1", "IT"], readouts=True)
    assert [len(acts[k]) for k in ("V1", "IT", "it.lateral", "readout")] == [2, 2, 1, 1]
    assert not torch.allclose(acts["IT"][0], acts["IT"][1])  # the second step sees the first one's state
    torch.testing.assert_close(acts["readout"][0], model(x))

    from brainlike.analysis.features import extract_features

    path = extract_features(
        model,
        tmp_path / "images",
        tmp_path / "f.h5",
        areas=["V1", "IT"],
        layers=["it.lateral"],
        readouts=True,
        pool="none",
        batch_size=4,
        progress=False,
    )
    keys = [("V1", 0), ("V1", 1), ("IT", 0), ("IT", 1), ("it.lateral", 0), ("readout", 0)]
    assert feature_layers(path) == keys
    for (area, step), key in zip(keys, ["V1", "V1", "IT", "IT", "it.lateral", "readout"]):
        np.testing.assert_allclose(load_layer(path, area, step).values, acts[key][step].numpy(), atol=1e-5)


def _readme_example() -> str:
    text = README.read_text()
    heading = re.search(r"^#+ Add your own model\s*$", text, flags=re.MULTILINE)
    assert heading, "the README has no 'Add your own model' section"
    block = re.search(r"```python\n(.*?)```", text[heading.end() :], flags=re.DOTALL)
    assert block, "the README's 'Add your own model' section has no python example"
    return block.group(1)


@pytest.mark.slow
def test_the_readme_example_runs(tmp_path, monkeypatch):
    """The README's example, as written, on images/ and it.npz made here (time-binned IT recordings)."""
    monkeypatch.chdir(tmp_path)
    paths = write_images(tmp_path / "images", count=10)
    model = wrapped()
    x = load_images(paths, "imagenet", 64)
    it = record(model, x, areas=["IT"], pool="avg")["IT"][1].numpy()
    write_neural(tmp_path / "it.npz", [p.name for p in paths], it, time_bins=[(70, 120), (120, 170)])
    namespace: dict = {}
    exec(compile(_readme_example(), "README.md", "exec"), namespace)  # noqa: S102
    report = json.loads((tmp_path / "two-step-vs-it" / "report.json").read_text())
    layers = {s["layer"] for s in report["scores"]}
    assert {"V1.output-t0", "V1.output-t1", "IT.output-t1", "readout.output-t0"} <= layers
    assert namespace["acts"]["IT"][1].shape[0] == 2
