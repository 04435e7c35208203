"""Adversarial reports: tables, curves next to baselines, per-step figures, saved examples, the CLI."""

import argparse
import json

import pytest
import torch

from brainlike import BrainlikeError
from brainlike.analysis.adversarial import adversarial_report, measure_adversarial, write_adversarial_report
from brainlike.analysis.adversarial.report import read_curves
from brainlike.cli.adversarial import add_adversarial
from brainlike.data.digits import digits
from tests.analysis.test_adversarial_models import PRESET, SIZE, DigitNet, train

RUN = dict(input_size=SIZE, preprocessing=PRESET, workers=0)


@pytest.fixture(scope="module")
def result():
    net = train(DigitNet(readout_steps=2), steps=100)
    budgets = ["linf:1/1020", "linf:8/255", "l2:0.5"]
    return measure_adversarial(net, digits("val", size=SIZE), budgets=budgets, steps=3, limit=24, examples=3, **RUN)


def test_examples_are_kept_for_the_first_images(result):
    assert result.examples["clean"].shape == (3, 3, SIZE, SIZE) and len(result.examples["labels"]) == 3
    assert set(result.examples) == {"clean", "labels", "linf 1/1020", "linf 8/255", "l2 0.5"}
    delta = (result.examples["linf 8/255"].double() - result.examples["clean"].double()).abs().max()
    assert 0 < delta <= 8 / 255


@pytest.mark.slow
def test_report_has_tables_curves_per_step_figures_and_examples(result, tmp_path):
    baseline = write_adversarial_report(result, tmp_path / "baseline")
    folder = write_adversarial_report(result, tmp_path / "report", baselines=[baseline], examples_format="pt")
    payload = json.loads((folder / "report.json").read_text())
    assert payload["images"] == 24 and payload["baselines"] == [result.model]
    cell = payload["robust"]["last"]["linf 8/255"]
    assert cell["top1_per_step"] == pytest.approx(result.top1("linf 8/255")) and len(cell["interval_per_step"]) == 2
    assert set(payload["robust"]) == {"last", "mean"}
    for name in ("adversarial_budgets", "adversarial_steps_last", "adversarial_steps_mean", "adversarial_examples"):
        assert (folder / f"{name}.png").is_file()
    saved = torch.load(folder / "examples" / "adversarial_examples.pt", weights_only=True)
    assert torch.equal(saved["linf 1/1020"], result.examples["linf 1/1020"])  # exact, unlike 8-bit PNGs
    assert len(list((tmp_path / "baseline" / "examples").glob("*.png"))) == 3 * 4
    markdown = (folder / "report.md").read_text()
    assert "| linf | 1/1020 |" in markdown and "mean loss over all readouts" in markdown
    assert read_curves(folder)["budgets"]["l2 0.5"]["top1"] == pytest.approx(result.top1("l2 0.5")[-1])


def test_a_baseline_that_is_not_an_adversarial_report_fails_first(tmp_path):
    (tmp_path / "report.json").write_text(json.dumps({"model": "x"}))
    with pytest.raises(BrainlikeError, match="not an adversarial report"):
        adversarial_report("b_net_32", tmp_path / "out", data="digits", baselines=[tmp_path])


@pytest.mark.slow
def test_the_command_line_attacks_a_registered_model(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_adversarial(parser.add_subparsers())
    args = parser.parse_args(
        ["adversarial", "b_net_32", "--data", "digits", "--pretrained", "false", "--budgets", "linf:1/255", "l2:0.1"]
        + ["--steps", "2", "--limit", "8", "--batch-size", "8", "--workers", "0", "-o", str(tmp_path / "adv")]
    )
    args.handler(args)
    out = capsys.readouterr().out
    assert "linf 1/255" in out and "l2 0.1" in out and "report written" in out
    assert (tmp_path / "adv" / "adversarial_examples.png").is_file()
