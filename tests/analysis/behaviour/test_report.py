"""The behaviour report and the `brainlike behaviour` command on the fixture stimuli."""

import argparse
import json

import pytest

from brainlike.analysis.behaviour import behaviour_report, measure_behaviour, summarise
from brainlike.cli.behaviour import add_behaviour
from brainlike.data.geirhos import CNNS, HUMANS
from tests.analysis.behaviour.helpers import STIMULI, Oracle


@pytest.mark.slow
def test_a_feed_forward_report_has_the_papers_panels(tmp_path):
    folder = behaviour_report(Oracle("cue-conflict", "shape"), tmp_path / "report", stimuli=STIMULI, progress=False)
    report = json.loads((folder / "report.json").read_text())
    summary = report["experiments"]["cue-conflict"]
    assert summary["images"] == 8 and summary["unavailable_images"] == 1272 and summary["readout_steps"] == 1
    assert list(summary["observers"]) == [*HUMANS, *CNNS, "Oracle"]
    oracle = summary["observers"]["Oracle"]
    assert oracle["shape_bias"] == 1.0 and oracle["accuracy"] == 1.0 and oracle["kind"] == "model"
    # every observer is scored on the same 8 images
    assert 0 < summary["humans"]["shape_bias"] <= 1 and summary["observers"]["vgg"]["accuracy"] in {
        k / 8 for k in range(9)
    }
    assert "per_step" not in summary
    assert (folder / "cue-conflict_shape_bias.png").is_file() and (folder / "cue-conflict_consistency.png").is_file()
    markdown = (folder / "report.md").read_text()
    assert "## cue-conflict: overview" in markdown and "| VGG-16 |" in markdown and "1272 stimuli were not" in markdown


@pytest.mark.slow
def test_a_recurrent_model_on_every_experiment(tmp_path):
    folder = behaviour_report(
        "bl_net_128", tmp_path / "r", experiment="all", stimuli=STIMULI, pretrained=False, progress=False
    )
    report = json.loads((folder / "report.json").read_text())
    assert list(report["experiments"]) == ["cue-conflict", "edges", "silhouettes"]
    edges = report["experiments"]["edges"]
    assert (
        edges["dropped_categories"] == ["keyboard", "oven"] and edges["images"] == 6 and edges["excluded_images"] == 2
    )
    assert len(edges["per_step"]["accuracy"]) == 4 and "shape_bias" not in edges["per_step"]
    timing = edges["decision_time"]
    assert set(timing["correlations"]) == {"stable_step", "confident_step"} and len(timing["per_image"]["image"]) == 6
    assert len(report["experiments"]["cue-conflict"]["per_step"]["shape_bias"]) == 4
    for name in ("edges_per_step", "edges_stable_step_vs_rt", "edges_confident_step_vs_rt", "cue-conflict_shape_bias"):
        assert (folder / f"{name}.png").is_file()
    assert "What this correlation can show" in (folder / "report.md").read_text()


def test_the_summary_scores_the_recorded_observers_on_the_models_images():
    result = measure_behaviour(Oracle("silhouettes", "shape"), "silhouettes", stimuli=STIMULI, workers=0)
    summary = summarise(result)
    assert summary["observers"]["Oracle"]["accuracy"] == 1.0 and "shape_bias" not in summary["observers"]["Oracle"]
    assert 0 < summary["human_ceiling"] < 1 and summary["human_pairs"]["count"] == 45


def _cli(argv):
    parser = argparse.ArgumentParser()
    add_behaviour(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    args.handler(args)


def test_the_command(tmp_path, capsys, monkeypatch):
    import brainlike.analysis.behaviour.report as report_module

    monkeypatch.setattr(report_module, "create_model", lambda name, pretrained, **config: Oracle("edges", "shape"))
    _cli(["behaviour", "oracle", "--experiment", "edges", "--stimuli", str(STIMULI), "-o", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert "edges             8 images: accuracy 1.000" in printed and "human ceiling" in printed
    assert (tmp_path / "out" / "report.md").is_file()
    from brainlike.cli import main

    assert main(["behaviour", "oracle", "--limit", "0"]) == 2  # refused by the parser, in one line
    assert capsys.readouterr().err.strip() == "brainlike behaviour: error: argument --limit: must be at least 1, not 0"
