"""The demo, on its reduced setting: every step's section, figure and data land in one report."""

import json

import pytest

from brainlike.demo import QUICK, run_demo


@pytest.mark.slow
def test_quick_demo_writes_every_section(tmp_path):
    folder = run_demo(tmp_path / "demo", QUICK)
    markdown = (folder / "report.md").read_text()
    for heading in (
        "## Model cornet_z",
        "## Features and RDMs (CORnet-Z, V1 vs IT)",
        "## V1 front end: Gabor parameters, sampled vs empirical",
        "## BLT-VS top-1 per readout step",
        "## Training on the embedded digits: Accuracy per readout step",
        "## Robustness on the embedded digits: Top-1 accuracy (last readout step)",
        "## CALC: the reference system",
        "## V1 electrophysiology: ",
        "## Behaviour against human observers: cue-conflict: overview",
        "## CORnet-Z vs CORnet-S, linear CKA: ",
        "## Scorecard: ",
    ):
        assert heading in markdown, heading
    figures = (
        "rdms_v1_it.png",
        "vone_gabor_bank.png",
        "training/report/accuracy_per_step.png",
        "behaviour/cue-conflict_shape_bias.png",
    )
    for figure in figures:
        assert f"]({figure})" in markdown and (folder / figure).is_file()
    report = json.loads((folder / "report.json").read_text())
    assert len(report["training"]["top1"]) == 4  # bl_net_32: one accuracy per readout step
    assert set(report["robustness"]["errors"]) == set(QUICK.corruptions)
    assert report["v1"]["v1"]["groups"]
    assert set(report["seconds_per_step"]) == {
        "models_step",
        "features_step",
        "vone_step",
        "recurrent_step",
        "training_step",
        "robustness_step",
        "comparison_step",
        "calc_step",
        "v1_step",
        "behaviour_step",
    }


@pytest.mark.slow
def test_the_demo_runs_again_into_its_own_folder(tmp_path):
    """`make demo` twice: the second run replaces the first one's report instead of refusing its folders."""
    first = json.loads((run_demo(tmp_path / "demo", QUICK) / "report.json").read_text())
    again = json.loads((run_demo(tmp_path / "demo", QUICK) / "report.json").read_text())
    assert set(again["seconds_per_step"]) == set(first["seconds_per_step"])
    assert again["training"]["top1"] == first["training"]["top1"]  # the same seeded run, trained afresh
