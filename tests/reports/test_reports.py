"""Report folders, the atomic writer, and figures that leave a user's matplotlib backend alone."""

import json
import os

import matplotlib
import numpy as np
import pytest

from brainlike import BrainlikeError
from brainlike.reports import Report, atomic_path, write_atomic
from brainlike.reports.figures.accuracy import accuracy_figure
from brainlike.reports.figures.canvas import axes_on
from brainlike.reports.figures.robustness import corruption_heatmap


def test_atomic_path_replaces_only_on_success_and_leaves_no_debris(tmp_path):
    target = tmp_path / "sub" / "file.txt"
    write_atomic(target, "first")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as partial:
            partial.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "first"
    assert os.listdir(target.parent) == ["file.txt"]
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"


def test_a_report_read_back_keeps_sections_figures_and_data(tmp_path):
    report = Report(tmp_path / "r", "first command")
    report.add_section("Fit", "| a |\n|---|\n| 1 |")
    report.data["cost"] = np.float64(0.25)
    report.add_figure("curve", accuracy_figure([0.1, 0.5], [0.3, 0.9], title="t"), caption="a curve")
    report.write()
    again = Report.read(tmp_path / "r")
    again.add_section("Plots", "two figures")
    again.add_section("Fit", "| a |\n|---|\n| 2 |")  # same heading: replaced, not doubled
    again.add_figure("curve", accuracy_figure([0.2, 0.6], [0.4, 0.95]), caption="a newer curve")
    again.write()
    markdown = (tmp_path / "r" / "report.md").read_text()
    assert markdown.count("## Fit") == 1 and "| 2 |" in markdown and "## Plots" in markdown
    assert markdown.count("curve.png") == 1 and "a newer curve" in markdown
    payload = json.loads((tmp_path / "r" / "report.json").read_text())
    assert payload["title"] == "first command" and payload["cost"] == 0.25 and payload["figures"] == ["curve.png"]


def test_include_links_a_sub_report(tmp_path):
    sub = Report(tmp_path / "top" / "training", "training")
    sub.add_section("Accuracy", "90 %")
    sub.data["top1"] = [0.9]
    sub.add_figure("acc", accuracy_figure([0.9], [1.0]))
    sub.write()
    top = Report(tmp_path / "top", "demo")
    top.include(tmp_path / "top" / "training", heading="Training", key="training")
    top.write()
    markdown = (tmp_path / "top" / "report.md").read_text()
    assert "## Training: Accuracy" in markdown and "](training/acc.png)" in markdown
    assert json.loads((tmp_path / "top" / "report.json").read_text())["training"]["top1"] == [0.9]


def test_reading_a_folder_without_a_report_is_a_clear_error(tmp_path):
    with pytest.raises(BrainlikeError, match="no report in"):
        Report.read(tmp_path)


def test_figures_leave_the_backend_as_they_found_it_and_draw_on_a_given_axes(tmp_path):
    before = matplotlib.get_backend()
    try:
        matplotlib.use("svg")
        figure = corruption_heatmap(np.array([[50.0, 20.0]]), ["fog"], [1, 2], clean_percent=80.0)
        Report(tmp_path, "x").add_figure("heat", figure)
        assert matplotlib.get_backend() == "svg"
        assert (tmp_path / "heat.png").read_bytes()[:4] == b"\x89PNG"
        outer, axis = axes_on(None, (4, 3))
        assert accuracy_figure([0.5], [0.7], ax=axis) is outer
    finally:
        matplotlib.use(before)
