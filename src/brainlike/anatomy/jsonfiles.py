"""The JSON files CALC reads from and writes for its user: systems, specs and fit summaries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from brainlike.errors import BrainlikeError
from brainlike.reports import write_atomic


def read_json_file(path: str | Path, what: str) -> Any:
    """The JSON in `path`; a missing or invalid file is a BrainlikeError naming `what` it should be."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BrainlikeError(f"no {what} {path}") from None
    except json.JSONDecodeError as error:
        raise BrainlikeError(f"{path} is not valid JSON: {error}") from None


def write_json_file(path: str | Path, data: Any) -> Path:
    return write_atomic(path, json.dumps(data, indent=1))
