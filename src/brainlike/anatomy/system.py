"""A CALC System: cell populations and the projections between them, as biology describes them.

A population is one cortical layer of one area (`"<AREA>_<LAYER>"`, e.g. `V1_4Cbeta`, `V4_2/3`) with
a neuron count n, an extrinsic in-degree e (inputs per neuron from other areas) and an RF width w in
degrees. An inter-area projection carries the FLNe f (the fraction of the target's extrinsically
labelled neurons that come from the source); an inter-laminar one the in-degree b (inputs per target
neuron). The image is the special population INPUT with pixels x pixels x channels units.

`macaque.macaque_system` builds feed-forward systems from the shipped tables.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from brainlike.anatomy import tables
from brainlike.anatomy.jsonfiles import read_json_file, write_json_file
from brainlike.errors import BrainlikeError

# one image pixel's width in degrees in Tripp's macaque system (make_big_system): 500 px covering 100 deg
PIXEL_DEGREES = 0.2


@dataclass(frozen=True)
class Population:
    name: str
    n: float
    e: float | None = None
    w: float | None = None

    @property
    def area(self) -> str:
        return self.name.split("_")[0]

    @property
    def layer(self) -> str:
        parts = self.name.split("_")
        return parts[1] if len(parts) > 1 else ""


@dataclass(frozen=True)
class Projection:
    """Inter-area (f set) or inter-laminar (b set); `stride`, if given, is kept by the stride search."""

    pre: str
    post: str
    f: float | None = None
    b: float | None = None
    stride: int | None = None

    @property
    def inter_area(self) -> bool:
        return self.f is not None

    @property
    def name(self) -> str:
        return f"{self.pre}->{self.post}"


@dataclass(frozen=True)
class ImageInput:
    name: str = "INPUT"
    pixels: float = 500
    pixel_degrees: float = PIXEL_DEGREES
    channels: int = 3

    @property
    def n(self) -> float:
        return self.pixels**2 * self.channels


class System:
    """Populations and projections, with CALC's FLNe bookkeeping and checks."""

    def __init__(self, image: ImageInput | None = None, *, min_f: float = 1e-6):
        self.image = image or ImageInput()
        self.min_f = min_f
        self.populations: list[Population] = [Population(self.image.name, self.image.n, None, self.image.pixel_degrees)]
        self.projections: list[Projection] = []
        self.dropped: list[Projection] = []

    # ------------------------------------------------------------------ building
    def add(self, name: str, n: float, e: float | None = None, w: float | None = None) -> Population:
        if any(p.name == name for p in self.populations):
            raise BrainlikeError(f"population {name!r} is defined twice")
        if not n > 0 or (e is not None and not e > 0) or (w is not None and not w > 0):
            raise BrainlikeError(f"population {name}: n, e and w must be positive (got {n}, {e}, {w})")
        population = Population(name, float(n), e if e is None else float(e), w if w is None else float(w))
        self.populations.append(population)
        return population

    def _check_ends(self, pre: str, post: str) -> None:
        for name in (pre, post):
            self.population(name)
        if post == self.image.name:
            raise BrainlikeError(f"{pre}->{post}: nothing may project to the input")
        if any(p.pre == pre and p.post == post for p in self.projections):
            raise BrainlikeError(f"projection {pre}->{post} is defined twice")

    def connect_areas(self, pre: str, post: str, f: float, *, stride: int | None = None) -> None:
        self._check_ends(pre, post)
        if not 0 <= f:
            raise BrainlikeError(f"{pre}->{post}: FLNe must be non-negative, not {f}")
        projection = Projection(pre, post, f=float(f), stride=stride)
        (self.dropped if f < self.min_f else self.projections).append(projection)

    def connect_layers(self, pre: str, post: str, b: float, *, stride: int | None = None) -> None:
        self._check_ends(pre, post)
        if not b > 0:
            raise BrainlikeError(f"{pre}->{post}: in-degree b must be positive, not {b}")
        self.projections.append(Projection(pre, post, b=float(b), stride=stride))

    # ------------------------------------------------------------------ queries
    def population(self, name: str) -> Population:
        for p in self.populations:
            if p.name == name:
                return p
        raise BrainlikeError(f"no population named {name!r}")

    def index(self, name: str) -> int:
        return [p.name for p in self.populations].index(self.population(name).name)

    def inbound(self, name: str) -> list[Projection]:
        return [p for p in self.projections if p.post == name]

    def outbound(self, name: str) -> list[Projection]:
        return [p for p in self.projections if p.pre == name]

    def fixed_strides(self) -> dict[str, int]:
        return {p.name: p.stride for p in self.projections if p.stride is not None}

    def topological_order(self) -> list[str]:
        """Population names, inputs before outputs; raises on a cycle (CALC is feed-forward)."""
        pending = {p.name: len(self.inbound(p.name)) for p in self.populations}
        ready = [p.name for p in self.populations if pending[p.name] == 0]
        order = []
        while ready:
            name = ready.pop(0)
            order.append(name)
            for projection in self.outbound(name):
                pending[projection.post] -= 1
                if pending[projection.post] == 0:
                    ready.append(projection.post)
        if len(order) != len(self.populations):
            stuck = sorted(set(pending) - set(order))
            raise BrainlikeError(f"the system has a cycle through {', '.join(stuck[:5])}")
        return order

    def longest_path(self) -> list[str]:
        """The longest chain of populations (most projections), first found in topological order."""
        best: dict[str, list[str]] = {}
        for name in self.topological_order():
            chains = [best[p.pre] for p in self.inbound(name)]
            best[name] = max(chains, key=len, default=[]) + [name]
        return max(best.values(), key=len)

    # ------------------------------------------------------------------ CALC operations
    def normalize_flne(self) -> None:
        """Divide each target's inbound FLNe by their sum, so that they sum to 1 within the model."""
        totals: dict[str, float] = {}
        for p in self.projections:
            if p.inter_area:
                totals[p.post] = totals.get(p.post, 0.0) + p.f
        self.projections = [replace(p, f=p.f / totals[p.post]) if p.inter_area else p for p in self.projections]

    def prune_flne(self, min_fraction: float) -> None:
        """Drop inter-area projections weaker than `min_fraction`."""
        weak = [p for p in self.projections if p.inter_area and p.f < min_fraction]
        self.dropped += weak
        self.projections = [p for p in self.projections if p not in weak]

    def check_connected(self) -> None:
        """Every population other than the input must receive a projection."""
        orphans = [p.name for p in self.populations[1:] if not self.inbound(p.name)]
        if orphans:
            raise BrainlikeError(f"populations without any input: {', '.join(orphans)}")
        self.topological_order()

    def miniaturize(self, factor: float) -> None:
        """Divide every non-input neuron count by `factor` (CALC's `miniaturize`)."""
        self.populations = [self.populations[0]] + [replace(p, n=p.n / factor) for p in self.populations[1:]]

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        def projection(p: Projection) -> dict[str, Any]:
            d = {"pre": p.pre, "post": p.post}
            d.update({"f": p.f} if p.inter_area else {"b": p.b})
            if p.stride is not None:
                d["stride"] = p.stride
            return d

        return {
            "input": asdict(self.image),
            "populations": [asdict(p) for p in self.populations[1:]],
            "projections": [projection(p) for p in self.projections],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, min_f: float = 1e-6) -> "System":
        try:
            image = ImageInput(**data.get("input", {}))
            system = cls(image, min_f=min_f)
            for p in data["populations"]:
                system.add(p["name"], p["n"], p.get("e"), p.get("w"))
            for p in data["projections"]:
                if ("f" in p) == ("b" in p):
                    raise BrainlikeError(f"projection {p.get('pre')}->{p.get('post')} needs exactly one of f, b")
                stride = p.get("stride")
                if stride is not None and (int(stride) != stride or stride < 1):
                    raise BrainlikeError(f"projection {p['pre']}->{p['post']}: stride must be a positive integer")
                connect = system.connect_areas if "f" in p else system.connect_layers
                connect(
                    p["pre"], p["post"], p["f"] if "f" in p else p["b"], stride=None if stride is None else int(stride)
                )
        except (KeyError, TypeError) as error:
            raise BrainlikeError(f"malformed system description: {error!r}") from None
        system.check_connected()
        return system

    def save(self, path: str | Path) -> None:
        write_json_file(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "System":
        return cls.from_dict(read_json_file(path, "system file"))


def reference_system(name: str) -> System:
    """One of Tripp's small example systems (`tables.reference_systems()` lists them)."""
    systems = tables.reference_systems()
    if name not in systems:
        raise BrainlikeError(f"unknown reference system {name!r}; choose from {', '.join(systems)}")
    return System.from_dict(systems[name])
