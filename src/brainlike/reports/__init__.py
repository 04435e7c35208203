"""Reports: folders of report.json + report.md + PNG figures, Markdown tables, JSON values, every figure,
and the one atomic file writer. Imports nothing of brainlike but errors."""

from brainlike.reports.files import atomic_path, write_atomic
from brainlike.reports.folder import Report
from brainlike.reports.tables import markdown_table, to_jsonable

__all__ = ["Report", "atomic_path", "markdown_table", "to_jsonable", "write_atomic"]
