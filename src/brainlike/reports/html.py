"""A report folder as one static, self-contained HTML page: its sections, sortable tables and figures.

The figures are embedded as data: URIs and the page carries its own style and script, with a content
security policy that forbids loading anything, so the file opens anywhere: no server, no network.
Markdown sections are rendered for what reports write: paragraphs, pipe tables, lists, code blocks,
`code` and **bold**.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from brainlike.reports.files import write_atomic
from brainlike.reports.folder import Report

BULLET = re.compile(r"^\s*[-*] ")
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
table.sortable th { cursor: pointer; background: #f3f3f3; user-select: none; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; }
figcaption { font-size: 0.9em; color: #555; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; }
"""

# Clicking a header sorts the rows by that column's data-sort values (numbers as numbers, empty last);
# clicking it again reverses the order.
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var headers = table.querySelectorAll("thead th");
  headers.forEach(function (header, column) {
    header.setAttribute("aria-sort", "none");
    header.addEventListener("click", function () {
      var ascending = header.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-sort"), y = b.cells[column].getAttribute("data-sort");
        if (x === "" || y === "") { return (x === "") - (y === ""); }
        var p = parseFloat(x), q = parseFloat(y);
        var order = isNaN(p) || isNaN(q) ? x.localeCompare(y) : p - q;
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


@dataclass(frozen=True)
class Cell:
    """What a table cell shows, and the value it sorts by (None: sorts last)."""

    text: str
    sort: float | str | None = None


@dataclass(frozen=True)
class SortableTable:
    heading: str
    headers: list[str]
    rows: list[list[Cell]]
    note: str = ""


def _inline(text: str) -> str:
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)


def _pipe_cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table(lines: list[str]) -> str:
    head = "".join(f"<th>{_inline(c)}</th>" for c in _pipe_cells(lines[0]))
    body = "".join(
        "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in _pipe_cells(line)) + "</tr>" for line in lines[2:]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def markdown_html(text: str) -> str:
    """HTML for the Markdown that reports write (see the module docstring)."""
    blocks, lines, i = [], text.strip().splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines))
            blocks.append("<pre>" + html.escape("\n".join(lines[i + 1 : end])) + "</pre>")
            i = end + 1
        elif line.startswith("|") and i + 1 < len(lines) and set(lines[i + 1].replace("|", "").strip()) <= set("-: "):
            end = next((j for j in range(i, len(lines)) if not lines[j].startswith("|")), len(lines))
            blocks.append(_table(lines[i:end]))
            i = end
        elif BULLET.match(line):
            end = next((j for j in range(i, len(lines)) if not BULLET.match(lines[j])), len(lines))
            items = "".join(f"<li>{_inline(BULLET.sub('', item))}</li>" for item in lines[i:end])
            blocks.append(f"<ul>{items}</ul>")
            i = end
        elif not line.strip():
            i += 1
        else:
            end = next(
                (j for j in range(i, len(lines)) if not lines[j].strip() or lines[j].startswith(("|", "```"))),
                len(lines),
            )
            blocks.append("<p>" + _inline(" ".join(lines[i:end])) + "</p>")
            i = end
    return "\n".join(blocks)


def _sort_value(value) -> str:
    return "" if value is None else html.escape(str(value), quote=True)


def sortable_html(table: SortableTable) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = "".join(
        "<tr>" + "".join(f'<td data-sort="{_sort_value(c.sort)}">{html.escape(c.text)}</td>' for c in row) + "</tr>"
        for row in table.rows
    )
    note = f"<p>{_inline(table.note)}</p>" if table.note else ""
    return (
        f"<h2>{html.escape(table.heading)}</h2>{note}"
        f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _figure(folder: Path, name: str, caption: str) -> str:
    data = base64.b64encode((folder / name).read_bytes()).decode("ascii")
    text = html.escape(caption or name)
    return f'<figure><img src="data:image/png;base64,{data}" alt="{text}"><figcaption>{text}</figcaption></figure>'


def report_html(report: Report, *, tables: Sequence[SortableTable] = ()) -> str:
    """The page of a report: its title, its sections, then its figures; a sortable table takes the place of
    the section with its heading (tables without one come first)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(report.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(report.title)}</h1>",
    ]
    sortable = {t.heading: t for t in tables}
    parts += [sortable_html(t) for t in tables if t.heading not in dict(report.sections)]
    for heading, text in report.sections:
        if heading in sortable:
            parts.append(sortable_html(sortable[heading]))
        else:
            parts.append(f"<h2>{html.escape(heading)}</h2>\n{markdown_html(text)}")
    if report.figures:
        parts.append("<h2>Figures</h2>")
        parts += [_figure(report.folder, name, caption) for name, caption in report.figures]
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(parts)


def write_html(report: Report, name: str = "report.html", *, tables: Sequence[SortableTable] = ()) -> Path:
    """Write the report's page into its folder (its figures must be written already); returns the path."""
    return write_atomic(report.folder / name, report_html(report, tables=tables))
