"""The V1 report folder and the `brainlike v1` command."""

import json

import pytest

from brainlike.analysis.v1 import v1_report, write_v1_report
from brainlike.cli import main
from brainlike.runtime.fingerprints import weights_digest


@pytest.mark.slow
def test_report_folder_holds_json_markdown_and_figures(result, tmp_path):
    folder = write_v1_report(result, tmp_path / "v1", weights="synthetic")
    data = json.loads((folder / "report.json").read_text())
    assert data["v1"]["selection"]["measured"] == len(result.selection.units)
    by_property = {(p["dataset"], p["property"]): p for p in data["v1"]["properties"]}
    pref = by_property[("DeValois1982a", "preferred_orientation")]
    assert (
        pref["status"] == "scored" and 0 <= pref["score"] <= 1.1 and pref["ceiling"] == pytest.approx(0.962, abs=0.01)
    )
    assert by_property[("Ringach2002", "circular_variance")]["score"] is None
    assert sum(by_property[("Ringach2002", "circular_variance")]["model_counts"]) > 0
    assert set(data["figures"]) == {"v1_tuning_curves.png", "v1_histograms.png", "v1_ringach2002.png"}
    for name in data["figures"]:
        assert (folder / name).stat().st_size > 1000
    markdown = (folder / "report.md").read_text()
    assert "| property | dataset | score | raw | ceiling | model median | data median |" in markdown
    assert "not measured: the FreemanZiemba2013" in markdown
    assert "not measured: not measured" not in markdown and "not scored: not scored" not in markdown


@pytest.mark.slow
def test_v1_report_measures_a_given_model_and_returns_its_folder(model, tmp_path, capsys):
    folder = v1_report(model, tmp_path / "v1", max_units=4, batch_size=128, device="cpu", seed=2, progress=True)
    assert folder == tmp_path / "v1"
    data = json.loads((folder / "report.json").read_text())
    assert data["v1"]["weights"] == "given model" and data["v1"]["selection"]["measured"] == 4
    made_by = data["fingerprint"]  # what produced the report
    assert made_by["weights_sha256"] == weights_digest(model) and made_by["model"] == model.card.name
    assert (made_by["area"], made_by["max_units"], made_by["seed"], made_by["weights"]) == ("V1", 4, 2, "given model")
    lines = capsys.readouterr().err.strip().splitlines()  # one line per stage of the protocol
    assert [line.split("] ")[0].split("[")[1] for line in lines] == [f"{k}/5" for k in range(1, 6)]
    assert "orientation: 1152 gratings x 4 units" in lines[1] and lines[-1].endswith(" s)")


def test_frames(result):
    scores = result.frame()
    assert len(scores) == len(result.scores) and {"score", "ceiling", "model_median", "data_median"} <= set(
        scores.columns
    )
    units = result.units_frame()
    assert len(units) == len(result.selection.units) and "preferred_orientation" in units.columns


def test_cli_bad_area_is_one_line_error(capsys):
    assert main(["v1", "cornet_z", "--pretrained", "false", "--area", "V9", "--units", "10"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no area 'V9'" in err


def test_cli_rejects_a_unit_count_below_one(capsys):
    assert main(["v1", "cornet_z", "--pretrained", "false", "--units", "0"]) == 2
    assert "--units" in capsys.readouterr().err
