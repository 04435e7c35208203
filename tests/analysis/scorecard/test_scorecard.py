"""The scorecard: the measurement registry, results reused by fingerprint, ranks, the report and its page."""

import json

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from brainlike import BrainlikeError, create_model, wrap
from brainlike.analysis.behaviour import (
    consistency_with_humans,
    human_ceiling,
    load_responses,
    measure_behaviour,
    shape_bias,
)
from brainlike.analysis.features import extract_features, load_layer, stimulus_ids
from brainlike.analysis.scorecard import (
    MEASUREMENTS,
    Measurement,
    Score,
    measure_scorecard,
    parse_suite,
    scorecard_report,
)
from brainlike.analysis.scorecard.builtin import wilson_interval
from brainlike.cli import main
from brainlike.data.geirhos import HUMANS, sample_stimuli


class Toy(nn.Module):
    def __init__(self, seed: int, scale: float = 1.0):
        super().__init__()
        torch.manual_seed(seed)
        self.layer = nn.Linear(4, 3)
        with torch.no_grad():
            self.layer.weight *= scale

    def forward(self, x):
        return self.layer(x)


def toy_measurement(model, job):
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(job.seed))
    with torch.no_grad():
        out = model(x)
    steps = tuple(float(out[:, k].abs().mean()) for k in range(3))
    spread = float(out.std())
    return [
        Score("toy", steps[-1], ci=(steps[-1] - 0.1, steps[-1] + 0.1), per_step=steps, ceiled=True),
        Score("toy spread", spread, higher_is_better=False, details={"outputs": 16}),
    ]


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(
        MEASUREMENTS,
        "toy",
        Measurement("toy", "a forward pass on 16 random inputs", toy_measurement, lambda job: {"seed": job.seed}),
    )


def counted(model: nn.Module) -> list[int]:
    calls = [0]

    def count(module, inputs):
        calls[0] += 1

    for module in model.modules():
        module.register_forward_pre_hook(count)
    return calls


def test_results_are_reused_until_the_weights_change(toy, tmp_path, capsys):
    models = {"small": Toy(0, 0.5), "large": Toy(1, 3.0)}
    calls = {label: counted(m) for label, m in models.items()}
    first = measure_scorecard(models, tmp_path, suite="toy", device="cpu")
    assert first.status() == {"measured": 2} and all(c[0] > 0 for c in calls.values())
    stored = json.loads((tmp_path / "results" / "small" / "toy.json").read_text())
    assert stored["fingerprint"]["model"] == "Toy" and len(stored["fingerprint"]["weights_sha256"]) == 16
    assert first.ranks()["toy"] == {"small": 2.0, "large": 1.0}
    assert first.ranks()["toy spread"] == {"small": 1.0, "large": 2.0}  # lower is better there

    before = {label: c[0] for label, c in calls.items()}
    again = measure_scorecard(models, tmp_path, suite="toy", device="cpu")
    assert again.status() == {"reused": 2}
    assert {label: c[0] for label, c in calls.items()} == before  # no forward pass at all
    assert again.frame().equals(first.frame())

    with torch.no_grad():
        models["small"].layer.bias += 1.0
    changed = measure_scorecard(models, tmp_path, suite="toy", device="cpu")
    assert [o.status for o in changed.outcomes] == ["recomputed", "reused"]
    assert "weights_sha256" in changed.outcomes[0].reason and calls["small"][0] > before["small"]
    assert changed.scores()["small"]["toy"].value != first.scores()["small"]["toy"].value
    assert "small toy: measured again" in capsys.readouterr().err
    other_seed = measure_scorecard(models, tmp_path, suite="toy", device="cpu", seed=1)
    assert other_seed.status() == {"recomputed": 2}


def test_report_table_ranks_and_page(toy, tmp_path):
    folder = scorecard_report({"small": Toy(0, 0.5), "large": Toy(1, 3.0)}, tmp_path, suite="toy", device="cpu")
    report = json.loads((folder / "report.json").read_text())
    assert report["mean_ranks"] == {"small": 1.5, "large": 1.5}
    text = (folder / "report.md").read_text()
    assert "| model | toy (ceiled) | toy spread | mean rank |" in text and "(#1)" in text
    for name in ("score_0.png", "steps_0.png", "score_1.png"):
        assert (folder / name).is_file()
    page = (folder / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and 'class="sortable"' in page
    assert "http://" not in page and "https://" not in page and "Content-Security-Policy" in page
    assert page.count("<h2>Scores</h2>") == 1


def test_suites_are_checked(tmp_path):
    assert [e.key for e in parse_suite("accuracy, robustness,neural:x.npz")] == [
        "accuracy",
        "robustness",
        "neural:x.npz",
    ]
    assert [e.key for e in parse_suite("behaviour,behaviour:edges")] == ["behaviour", "behaviour:edges"]
    with pytest.raises(BrainlikeError, match="unknown measurement 'behavior'; the scorecard knows accuracy"):
        parse_suite("accuracy,behavior")
    with pytest.raises(BrainlikeError, match="neural needs an argument"):
        parse_suite("neural")
    with pytest.raises(BrainlikeError, match="v1 takes no argument"):
        parse_suite("v1:x")
    with pytest.raises(BrainlikeError, match="twice"):
        parse_suite("v1,v1")
    (tmp_path / "n.npz").write_bytes(b"")
    with pytest.raises(BrainlikeError, match="needs the stimulus images"):
        measure_scorecard({"toy": Toy(0)}, tmp_path, suite=f"neural:{tmp_path / 'n.npz'}", device="cpu")


def test_wilson_interval():
    low, high = wilson_interval(0.5, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)
    assert wilson_interval(0.0, 20)[0] == pytest.approx(0.0, abs=1e-12)


@pytest.fixture(scope="module")
def neural_setup(tmp_path_factory):
    """12 random 32 px images and responses that are a noisy linear map of b_net_32's V4 features."""
    root = tmp_path_factory.mktemp("neural")
    images = root / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)).save(images / f"{i:02d}.png")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # the scorecard builds b_net_32's random weights from seed 0 too
        model = create_model("b_net_32", pretrained=False)
    features = extract_features(model, images, root / "f.h5", areas=["V4"], progress=False)
    v4 = load_layer(features, "V4", 0).values
    signal = v4 @ rng.normal(size=(v4.shape[1], 6))
    responses = signal[None] + 0.05 * signal.std() * rng.normal(size=(3, *signal.shape))
    np.savez(root / "it.npz", stimulus_id=stimulus_ids(features), responses=responses)
    return images, root / "it.npz"


@pytest.mark.slow
def test_two_models_on_the_embedded_data_are_reused_without_a_forward_pass(neural_setup, tmp_path, monkeypatch):
    images, neural = neural_setup
    options = dict(
        suite=f"accuracy,robustness,neural:{neural}",
        pretrained=False,
        limit=20,
        stimuli=images,
        corruptions=["fog"],
        severities=[1],
        device="cpu",
        workers=0,
    )
    folder = scorecard_report(["b_net_32", "bl_net_32"], tmp_path, **options)
    report = json.loads((folder / "report.json").read_text())
    assert [o["status"] for o in report["outcomes"]] == ["measured"] * 6
    b_net = {s["name"]: s for s in report["scores"]["b_net_32"]}
    assert b_net["neural:it"]["ceiled"] and b_net["neural:it"]["value"] > 0.5  # it was made from b_net_32's V4
    layers = b_net["neural:it"]["details"]["layers"]
    assert set(layers) == {"V1.output-t0", "V4.output-t0"} and layers["V4.output-t0"] > 0.5
    recurrent = {s["name"]: s for s in report["scores"]["bl_net_32"]}
    assert len(recurrent["accuracy"]["per_step"]) == 4 and len(recurrent["robustness"]["per_step"]) == 4

    def no_forward(module, *args, **kwargs):
        raise AssertionError(f"{type(module).__name__} ran although every result is cached")

    monkeypatch.setattr(nn.Module, "__call__", no_forward)
    again = scorecard_report(["b_net_32", "bl_net_32"], tmp_path, **options)
    rerun = json.loads((again / "report.json").read_text())
    assert [o["status"] for o in rerun["outcomes"]] == ["reused"] * 6
    assert rerun["scores"] == report["scores"] and (again / "report.html").is_file()


@pytest.mark.slow
def test_cli_scorecard(tmp_path, capsys):
    out = tmp_path / "card"
    args = ["scorecard", "b_net_32", "b_net_32=false", "--pretrained", "false", "--suite", "accuracy", "--limit", "10"]
    assert main([*args, "--device", "cpu", "--workers", "0", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "mean rank" in printed and (out / "report.html").is_file()
    assert main(["scorecard", "b_net_32", "--suite", "nope", "-o", str(out)]) == 2
    assert "unknown measurement 'nope'" in capsys.readouterr().err


class Colour(nn.Module):
    """An ImageNet-sized head on the mean colour of the image: decisions that depend on the image."""

    def __init__(self, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.head = nn.Linear(3, 1000)

    def forward(self, x):
        return self.head(x.mean(dim=(2, 3)))


@pytest.mark.slow
def test_behaviour_scores_error_consistency_over_the_human_ceiling(tmp_path, monkeypatch):
    models = {name: wrap(Colour(seed), name=name, input_size=32) for seed, name in enumerate(["colour", "other"])}
    options = dict(suite="behaviour", behaviour_stimuli="sample", device="cpu", workers=0, progress=False)
    card = measure_scorecard(models, tmp_path, **options)
    scores = {(o.model, s.name): s for o in card.outcomes for s in o.scores}
    trials = load_responses("cue-conflict")
    for name, model in models.items():
        mine = measure_behaviour(model, stimuli=sample_stimuli(), device="cpu", workers=0).frame()
        assert len(mine) == 16
        humans = trials[trials["observer"].isin(HUMANS) & trials["image"].isin(set(mine["image"]))]
        expected = float(np.mean(consistency_with_humans(mine.assign(observer=name), humans).to_numpy()))
        score = scores[(name, "behaviour:cue-conflict")]
        assert score.ceiled and score.ceiling == pytest.approx(human_ceiling(humans))
        assert score.raw == pytest.approx(expected) and score.value == pytest.approx(expected / score.ceiling)
        assert scores[(name, "shape bias")].value == pytest.approx(shape_bias(mine))

    def no_forward(module, *args, **kwargs):
        raise AssertionError("the behaviour results should be reused")

    monkeypatch.setattr(nn.Module, "__call__", no_forward)
    again = measure_scorecard(models, tmp_path, **options)
    assert {o.status for o in again.outcomes} == {"reused"}
    with pytest.raises(BrainlikeError, match="the experiments are"):
        measure_scorecard(models, tmp_path, **{**options, "suite": "behaviour:colours"})
