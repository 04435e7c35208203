"""Corruption errors as in Hendrycks & Dietterich (2019), against a baseline model's results file:

    CE_c  = sum_s E(c, s) / sum_s E_base(c, s)                         mCE = mean_c CE_c
    rCE_c = sum_s (E(c, s) - E_clean) / sum_s (E_base(c, s) - E_base_clean)   relative mCE = mean_c rCE_c

The baseline is AlexNet by the ImageNet-C convention; `read_baseline("alexnet")` gives its published
ImageNet-C errors (`published.py`) without a file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from brainlike.analysis.robustness.published import is_published, published_baseline
from brainlike.errors import BrainlikeError


def corruption_errors(
    errors: Mapping[str, Mapping[int, float]], baseline: Mapping[str, Mapping[int, float]]
) -> dict[str, float]:
    """CE per corruption: the model's summed errors over severities over the baseline's."""
    result = {}
    for name, cells in errors.items():
        if name not in baseline:
            raise BrainlikeError(f"the baseline has no results for {name}")
        missing = set(cells) - set(baseline[name])
        if missing:
            raise BrainlikeError(f"the baseline has no {name} results at severities {sorted(missing)}")
        result[name] = sum(cells.values()) / sum(baseline[name][s] for s in cells)
    return result


def relative_corruption_errors(errors, clean_error: float, baseline, baseline_clean_error: float) -> dict[str, float]:
    """Relative CE per corruption: the drop from clean error, over the baseline's drop."""
    result = {}
    for name, cells in errors.items():
        ours = sum(e - clean_error for e in cells.values())
        theirs = sum(baseline[name][s] - baseline_clean_error for s in cells)
        result[name] = ours / theirs if theirs else float("nan")
    return result


def read_baseline(path: str | Path) -> tuple[dict[str, dict[int, float]], float | None]:
    """(errors per corruption and severity, clean error or None) of a baseline.

    `path` is a published baseline's name ("alexnet": AlexNet's ImageNet-C errors, Hendrycks & Dietterich
    2019; write ./alexnet for a file of that name), a brainlike robustness `report.json`, or a file
    `{"errors": {name: [e1..e5] or {"1": e1, ...}}, "clean_error": e}` (errors as fractions in [0, 1]).
    """
    if is_published(path):
        return published_baseline(path)
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
        raw = payload["errors"]
        errors = {}
        for name, values in raw.items():
            pairs = enumerate(values, start=1) if isinstance(values, list) else values.items()
            errors[name] = {int(s): float(e) for s, e in pairs}
    except FileNotFoundError:
        raise BrainlikeError(f"no baseline results file at {path}") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise BrainlikeError(f"{path} is not a results file with an 'errors' table ({error})") from None
    bad = [e for cells in errors.values() for e in cells.values() if not 0 <= e <= 1]
    if bad:
        raise BrainlikeError(f"{path}: errors must be fractions in [0, 1], found {bad[0]}")
    clean = payload.get("clean_error")
    return errors, None if clean is None else float(clean)
