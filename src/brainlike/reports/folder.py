"""Report folders: `report.json`, `report.md` and PNG figures, written the same way by every analysis.

    report = Report("out/v1", title="V1 properties of cornet_s")
    report.add_section("Orientation", markdown_text)
    report.data["properties"] = {...}          # anything JSON can hold (numpy values are converted)
    report.add_figure("tuning", fig, caption="Example tuning curves")
    report.write()

`Report.read(folder)` opens a folder written before, so a second command can add sections and figures
to it without removing what the first one wrote.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brainlike.errors import BrainlikeError
from brainlike.reports.files import atomic_path, write_atomic
from brainlike.reports.tables import to_jsonable

FIGURE_DPI = 110
_LAYOUT = "layout"
_RESERVED = ("title", "figures", _LAYOUT)


@dataclass
class Report:
    folder: Path
    title: str
    data: dict[str, Any] = field(default_factory=dict)
    sections: list[tuple[str, str]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self):
        self.folder = Path(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def read(cls, folder: str | Path) -> Report:
        """The report in `folder` (its title, data, sections and figures), to be extended and written again."""
        path = Path(folder) / "report.json"
        try:
            payload = json.loads(path.read_text())
        except FileNotFoundError:
            raise BrainlikeError(f"no report in {folder} (no report.json)") from None
        except json.JSONDecodeError as error:
            raise BrainlikeError(f"{path} is not a readable report ({error})") from None
        layout = payload.get(_LAYOUT, {})
        return cls(
            Path(folder),
            payload.get("title", ""),
            data={k: v for k, v in payload.items() if k not in _RESERVED},
            sections=[tuple(s) for s in layout.get("sections", [])],
            figures=[tuple(f) for f in layout.get("figures", [[name, ""] for name in payload.get("figures", [])])],
        )

    def add_section(self, heading: str, markdown: str) -> None:
        """Add a section; one with the same heading is replaced in place."""
        for i, (existing, _) in enumerate(self.sections):
            if existing == heading:
                self.sections[i] = (heading, markdown)
                return
        self.sections.append((heading, markdown))

    def add_figure(self, name: str, figure, caption: str = "") -> Path:
        """Save a matplotlib figure as `name.png` in the folder (replacing one of that name)."""
        path = self.folder / f"{name}.png"
        with atomic_path(path) as partial:
            figure.savefig(partial, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
        if getattr(figure.canvas, "manager", None) is not None:
            import matplotlib.pyplot as plt  # a pyplot figure: release it

            plt.close(figure)
        self.figures = [(f, c) for f, c in self.figures if f != path.name] + [(path.name, caption)]
        return path

    def include(self, folder: str | Path, *, heading: str, key: str) -> None:
        """Add the report in `folder` (a sub-folder, usually): its sections under `heading`, its figures
        linked where they are, and its data under `key`."""
        other = Report.read(folder)
        where = Path(os.path.relpath(other.folder, self.folder))
        for title, text in other.sections:
            self.add_section(f"{heading}: {title}", text)
        linked = [((where / name).as_posix(), caption) for name, caption in other.figures]
        self.figures = [f for f in self.figures if f not in linked] + linked
        self.data[key] = {"report": where.as_posix(), **other.data}

    def markdown(self) -> str:
        parts = [f"# {self.title}", ""]
        for heading, text in self.sections:
            parts += [f"## {heading}", "", text.strip(), ""]
        for file_name, caption in self.figures:
            parts += [f"![{caption or file_name}]({file_name})", ""]
        return "\n".join(parts)

    def write(self) -> Path:
        payload = {
            "title": self.title,
            **to_jsonable(self.data),
            "figures": [name for name, _ in self.figures],
            _LAYOUT: {"sections": self.sections, "figures": self.figures},
        }
        write_atomic(self.folder / "report.json", json.dumps(to_jsonable(payload), indent=1))
        write_atomic(self.folder / "report.md", self.markdown())
        return self.folder
