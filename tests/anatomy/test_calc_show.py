"""`calc show` adds its figures to the report `calc fit` wrote, and leaves the matplotlib backend alone."""

import json

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from brainlike.anatomy.fit import fit_to_folder
from brainlike.anatomy.spec import show_folder
from brainlike.errors import BrainlikeError
from brainlike.reports import Report
from brainlike.reports.figures.anatomy import flne_figure, layer_graph_figure

SYSTEM = "test_conversion_system_2_V1_V2_V4"
FIT_SECTIONS = ["Cost", "Populations: target vs achieved", "Projections: target vs achieved"]


@pytest.fixture
def fitted(tmp_path):
    return fit_to_folder(SYSTEM, tmp_path / "fit", method="lbfgs", max_iterations=20)


def test_show_keeps_the_fit_report_and_adds_the_figures(fitted):
    before = json.loads((fitted / "report.json").read_text())
    fit_markdown = (fitted / "report.md").read_text()
    show_folder(fitted)
    after = json.loads((fitted / "report.json").read_text())
    assert set(after) == set(before)
    assert {k: v for k, v in after.items() if k not in ("figures", "layout")} == {
        k: v for k, v in before.items() if k not in ("figures", "layout")
    }
    assert after["terms"] == json.loads((fitted / "fit.json").read_text())["terms"]
    markdown = (fitted / "report.md").read_text()
    assert fit_markdown.strip() in markdown
    for heading in FIT_SECTIONS + ["Figures"]:
        assert markdown.count(f"## {heading}\n") == 1
    assert "![log10 FLNe, system vs fitted network](flne.png)" in markdown
    assert "![layer graph](layers.png)" in markdown
    assert (fitted / "flne.png").is_file() and (fitted / "layers.png").is_file()

    show_folder(fitted)  # a second show replaces its figures and section
    again = Report.read(fitted)
    assert again.title == "CALC fit"
    assert [name for name, _ in again.figures] == ["flne.png", "layers.png"]
    assert [heading for heading, _ in again.sections] == FIT_SECTIONS + ["Figures"]


def test_show_leaves_the_matplotlib_backend_as_it_was(fitted):
    previous = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        show_folder(fitted)
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(previous)


def test_show_needs_a_fit_folder(tmp_path):
    with pytest.raises(BrainlikeError, match="not a `brainlike calc fit` folder"):
        show_folder(tmp_path)


def test_anatomy_figures_draw_on_the_axes_they_are_given():
    names = ["INPUT", "V1", "V2"]
    system = np.full((3, 3), np.nan)
    system[1, 0], system[2, 1] = 0.0, -1.0
    canvas = Figure()
    left, right, graph = canvas.subplots(1, 3)
    assert flne_figure(names, system, system - 0.1, ax=(left, right)) is canvas
    assert left.get_title() == "log10 system (FLNe)" and right.get_title() == "log10 fitted network"
    positions = {"INPUT": (0, 0.0), "V1": (1, 0.0), "V2": (2, 0.0)}
    edges = [("INPUT", "V1", True), ("V1", "V2", False)]
    assert layer_graph_figure(positions, edges, ax=graph) is canvas
    assert [text.get_text() for text in graph.texts if text.get_text()] == names
    assert isinstance(layer_graph_figure(positions, edges), Figure)
    assert isinstance(flne_figure(names, np.full((3, 3), np.nan), np.full((3, 3), np.nan)), Figure)
