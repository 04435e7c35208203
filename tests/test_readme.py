"""The README's model table is the registry's, and its quickstart is the two make targets."""

from pathlib import Path

from brainlike.summary import models_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_model_table_is_current():
    text = README.read_text()
    start, end = "<!-- models-table:start -->\n", "<!-- models-table:end -->"
    table = text[text.index(start) + len(start) : text.index(end)].strip()
    assert table == models_table(), "regenerate with: python -m brainlike.summary --readme README.md"


def test_quickstart_is_make_demo_and_make_test():
    assert "```\nmake demo\nmake test\n```" in README.read_text()
