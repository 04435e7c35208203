"""Report folders: `report.json`, `report.md` and PNG figures, written the same way by every analysis.

report = Report("out/v1", title="V1 properties of cornet_s")
report.add_section("Orientation", markdown_text)
report.data["properties"] = {...}          # anything JSON can hold (numpy values are converted)
report.add_figure("tuning", fig, caption="Example tuning curves")
report.write()
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np


def to_jsonable(value: Any) -> Any:
    """Convert numpy/torch scalars and arrays, tuples, Paths and dataclasses to plain JSON values."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: to_jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")
    partial.write_text(text)
    os.replace(partial, path)


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

    def add_section(self, heading: str, markdown: str) -> None:
        self.sections.append((heading, markdown))

    def add_figure(self, name: str, figure, caption: str = "") -> Path:
        """Save a matplotlib figure as `name.png` in the folder and close it."""
        import matplotlib.pyplot as plt

        path = self.folder / f"{name}.png"
        figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(figure)
        self.figures.append((path.name, caption))
        return path

    def markdown(self) -> str:
        parts = [f"# {self.title}", ""]
        for heading, text in self.sections:
            parts += [f"## {heading}", "", text.strip(), ""]
        for file_name, caption in self.figures:
            parts += [f"![{caption or file_name}]({file_name})", ""]
        return "\n".join(parts)

    def write(self) -> Path:
        payload = {"title": self.title, **to_jsonable(self.data), "figures": [name for name, _ in self.figures]}
        write_atomic(self.folder / "report.json", json.dumps(payload, indent=1))
        write_atomic(self.folder / "report.md", self.markdown())
        return self.folder
