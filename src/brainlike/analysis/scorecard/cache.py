"""Results of a scorecard kept in its folder, one JSON file per (model, measurement) with its fingerprint.

    DIR/results/<model>/<measurement>.json    {"fingerprint": {...}, "scores": [...], "seconds": s}
    DIR/results/<model>/<measurement>/        files the measurement keeps (e.g. extracted features)

A result is reused only when the fingerprint of the model and settings now equals the stored one; any
difference (other weights, another configuration, other settings, another brainlike version) means the
measurement runs again and its file is replaced.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from brainlike.analysis.scorecard.measurements import Score
from brainlike.reports import to_jsonable, write_atomic

RESULTS = "results"


def slug(text: str) -> str:
    """A file name for a model label or suite entry; entries with an argument get a digest of it."""
    name, _, argument = text.partition(":")
    clean = re.sub(r"[^A-Za-z0-9_.=-]+", "-", name).strip("-") or "entry"
    if argument:
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(argument).stem).strip("-")
        clean += f"-{stem}-{hashlib.sha256(argument.encode()).hexdigest()[:8]}"
    return clean


def entry_path(folder: Path, model: str, entry: str) -> Path:
    return Path(folder) / RESULTS / slug(model) / f"{slug(entry)}.json"


def load_entry(path: Path) -> dict | None:
    """The stored result at `path`, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or "fingerprint" not in data or "scores" not in data:
        return None
    return data


def stored_scores(data: dict) -> list[Score]:
    return [Score.from_json(s) for s in data["scores"]]


def save_entry(path: Path, fingerprint: dict, scores: list[Score], seconds: float) -> None:
    payload = {"fingerprint": fingerprint, "scores": scores, "seconds": seconds}
    write_atomic(path, json.dumps(to_jsonable(payload), indent=1))


def plain(fingerprint: dict) -> dict:
    """The fingerprint as it reads back from JSON (tuples become lists, and so on)."""
    return json.loads(json.dumps(to_jsonable(fingerprint)))
