"""The anatomical tables shipped in `anatomy/data/` (see `data/SOURCES.md`), loaded and checked.

Each loader validates what it returns: required columns are present, quantities are positive and in
the units the rest of the package assumes (mm^2, mm, neurons per mm^3, degrees, fractions in [0, 1]).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from brainlike.errors import BrainlikeError


def _text(name: str) -> str:
    path = resources.files("brainlike.anatomy") / "data" / name
    if not path.is_file():
        raise BrainlikeError(f"anatomy table {name!r} is missing from the installed package")
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def read_json(name: str) -> dict[str, Any]:
    return json.loads(_text(name))


@lru_cache(maxsize=None)
def read_csv(name: str, required: tuple[str, ...] = ()) -> tuple[dict[str, str], ...]:
    rows = tuple(csv.DictReader(_text(name).splitlines()))
    missing = [c for c in required if rows and c not in rows[0]]
    if not rows or missing:
        raise BrainlikeError(f"anatomy table {name} lacks columns {missing or 'and rows'}")
    return rows


def _number(value: str, what: str, *, low: float = 0.0, high: float = math.inf) -> float | None:
    if value in ("", None):
        return None
    number = float(value)
    if not low < number <= high:
        raise BrainlikeError(f"{what} = {number} is outside ({low}, {high}]")
    return number


@dataclass(frozen=True)
class AreaFacts:
    """What the tables say about one cortical area (None where they say nothing)."""

    name: str
    surface_mm2: float | None
    thickness_mm: float | None
    neun_per_mm3: float | None
    rf_diameter_deg: float | None
    hierarchy_level: float | None

    @property
    def neurons(self) -> float:
        """Neurons under the whole surface: area x thickness x NeuN density."""
        if None in (self.surface_mm2, self.thickness_mm, self.neun_per_mm3):
            raise BrainlikeError(f"the shipped tables cannot give a neuron count for area {self.name}")
        return self.surface_mm2 * self.thickness_mm * self.neun_per_mm3


@lru_cache(maxsize=None)
def _area_rows() -> dict[str, dict[str, str]]:
    rows = read_csv(
        "areas.csv",
        (
            "area",
            "surface_area_mm2",
            "cortical_thickness_mm",
            "density_neun_per_mm3",
            "rf_diameter_deg_at_5deg_ecc",
            "hierarchy_markov2014_level",
        ),
    )
    return {r["area"]: r for r in rows}


@lru_cache(maxsize=None)
def _neun_rows() -> dict[str, dict[str, str]]:
    rows = read_csv("neuronal_densities.csv", ("area_as_in_source", "method", "overall_per_mm3"))
    return {r["area_as_in_source"]: r for r in rows if r["method"] == "NeuN"}


def area_facts(name: str) -> AreaFacts:
    """Surface, thickness, NeuN density, RF diameter at 5 deg eccentricity and Markov hierarchy level."""
    rows = _area_rows()
    if name not in rows:
        raise BrainlikeError(f"no anatomy facts for area {name!r}")
    proxies = read_json("macaque_choices.json")["m132_area_proxies"]

    def row_for(kind: str) -> dict[str, str]:
        return rows.get(proxies[kind].get(name, name), {})

    density_name = proxies["density"].get(name, name)
    density = _neun_rows().get(density_name, {}).get("overall_per_mm3") or rows[name]["density_neun_per_mm3"]
    thickness = row_for("thickness").get("cortical_thickness_mm") or rows[name]["cortical_thickness_mm"]
    return AreaFacts(
        name=name,
        surface_mm2=_number(row_for("surface_area").get("surface_area_mm2", ""), f"{name} surface (mm^2)"),
        thickness_mm=_number(thickness, f"{name} thickness (mm)", high=6.0),
        neun_per_mm3=_number(density, f"{name} NeuN density (per mm^3)", high=1e6),
        rf_diameter_deg=_number(
            row_for("rf_diameter").get("rf_diameter_deg_at_5deg_ecc", ""), f"{name} RF diameter (deg)", high=180.0
        ),
        hierarchy_level=_number(
            rows[name]["hierarchy_markov2014_level"], f"{name} hierarchy level", low=-1.0, high=10.0
        ),
    )


@lru_cache(maxsize=None)
def flne_table() -> dict[tuple[str, str], float]:
    """(target, source) -> FLNe, Markov et al. (2014), averaged over the target's injections (zero-filled)."""
    table = {}
    for r in read_csv("markov2014_fln_mean.csv", ("target", "source", "fln_mean_zero_filled")):
        value = _number(r["fln_mean_zero_filled"], f"FLNe {r['source']}->{r['target']}", high=1.0)
        if value:
            table[r["target"], r["source"]] = value
    return table


@lru_cache(maxsize=None)
def sln_table() -> dict[tuple[str, str], float]:
    """(target, source) -> SLN, supragranular / all labelled neurons pooled over injections (Markov 2014)."""
    counts: dict[tuple[str, str], list[float]] = {}
    for r in read_csv("markov2014_sln.csv", ("target", "source", "supragranular_neurons", "total_neurons")):
        supra, total = float(r["supragranular_neurons"]), float(r["total_neurons"])
        if total <= 0 or not 0 <= supra <= total:
            raise BrainlikeError(f"bad SLN counts for {r['source']}->{r['target']}: {supra}/{total}")
        pair = counts.setdefault((r["target"], r["source"]), [0.0, 0.0])
        pair[0] += supra
        pair[1] += total
    return {key: supra / total for key, (supra, total) in counts.items()}


def synapses_per_connection() -> float:
    """Mean synapses per connected pair (Fares & Stepanyants 2009, pooled as CALC does)."""
    value = read_json("synapses_per_connection.json")["calc_pooled_mean_synapses_per_connection"]
    return _number(str(value), "synapses per connection", high=100.0)


@lru_cache(maxsize=None)
def microcircuit() -> dict[str, dict[str, float]]:
    """Potjans & Diesmann (2014) 1 mm^2 model: neurons and external in-degree per population."""
    rows = read_csv(
        "potjans_diesmann_2014_microcircuit_numbers.csv", ("population", "n_neurons", "n_external_inputs_per_neuron")
    )
    return {
        r["population"]: {"n": float(r["n_neurons"]), "k_ext": float(r["n_external_inputs_per_neuron"])} for r in rows
    }


def reference_systems() -> dict[str, dict[str, Any]]:
    """The small systems of Tripp's CALC code (tests and examples), in the package's System JSON form."""
    systems = {}
    for name, entry in read_json("calc_reference_systems.json")["systems"].items():
        inp = entry["input"]
        root = math.sqrt(inp["n"] / inp["channels_assumed_by_optimiser"])
        pixels = round(root) if abs(root - round(root)) < 1e-9 else root
        systems[name] = {
            "input": {
                "name": inp["name"],
                "pixels": pixels,
                "pixel_degrees": inp["w"],
                "channels": inp["channels_assumed_by_optimiser"],
            },
            "populations": [p for p in entry["populations"] if p["name"] != inp["name"]],
            "projections": entry["projections"],
        }
    return systems
