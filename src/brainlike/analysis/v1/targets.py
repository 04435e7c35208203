"""Published V1 property distributions shipped with brainlike (`data/`, sources in `data/SOURCES.md`)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from brainlike.errors import BrainlikeError


@dataclass(frozen=True)
class Target:
    """A published histogram of one property: bin edges, counts (None where they are not public),
    the number of rows of the Brain-Score assembly (neurons with the property plus NaN filler) and the
    expected ceiling from Brain-Score's tests, when there is one."""

    dataset: str
    property: str
    bins: np.ndarray
    counts: np.ndarray | None
    n_rows: int
    log_scale: bool
    units: str
    source: str
    expected_ceiling: float | None = None

    @property
    def has_counts(self) -> bool:
        return self.counts is not None

    def median(self) -> float:
        """Median of the histogram, interpolating inside the bin (in log2 space for octave bins)."""
        if self.counts is None or self.counts.sum() == 0:
            return float("nan")
        edges = np.log2(self.bins) if self.log_scale else self.bins
        cumulative = np.concatenate([[0.0], np.cumsum(self.counts)]) / self.counts.sum()
        value = float(np.interp(0.5, cumulative, edges))
        return float(2**value) if self.log_scale else value


def _data_file(name: str):
    return resources.files("brainlike.analysis.v1").joinpath("data", name)


@functools.cache
def _ceilings() -> dict[tuple[str, str], float]:
    table = json.loads(_data_file("ceilings.json").read_text())
    return {(b["dataset"], b["property"]): float(b["expected_ceiling"]) for b in table["benchmarks"]}


@functools.cache
def target(dataset: str, prop: str) -> Target:
    path = _data_file(f"{dataset}__{prop}.json")
    if not path.is_file():
        raise BrainlikeError(f"no published distribution of {prop!r} from {dataset!r} ships with brainlike")
    raw = json.loads(path.read_text())
    counts = raw.get("counts")
    return Target(
        dataset=dataset,
        property=prop,
        bins=np.asarray(raw["bins"], dtype=float),
        counts=None if counts is None else np.asarray(counts, dtype=np.int64),
        n_rows=int(raw.get("n_rows") or raw["n_neurons"]),
        log_scale=raw.get("bin_scale") == "log2",
        units=raw.get("units", ""),
        source=raw["source"],
        expected_ceiling=_ceilings().get((dataset, prop)),
    )


def shipped_targets() -> list[Target]:
    """Every shipped distribution, with or without counts."""
    names = sorted(p.name for p in _data_file("").iterdir() if "__" in p.name and p.name.endswith(".json"))
    return [target(*name.removesuffix(".json").split("__")) for name in names]
