"""A CALC System: cell populations and the projections between them, as biology describes them.

A population is one cortical layer of one area (`"<AREA>_<LAYER>"`, e.g. `V1_4Cbeta`, `V4_2/3`) with
a neuron count n, an extrinsic in-degree e (inputs per neuron from other areas) and an RF width w in
degrees. An inter-area projection carries the FLNe f (the fraction of the target's extrinsically
labelled neurons that come from the source); an inter-laminar one the in-degree b (inputs per target
neuron). The image is the special population INPUT with pixels x pixels x channels units.

`macaque_system` builds feed-forward systems from the shipped tables (see `anatomy/data/SOURCES.md`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Iterable

from brainlike.anatomy import tables
from brainlike.errors import BrainlikeError


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
    pixel_degrees: float = 0.2
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
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> "System":
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise BrainlikeError(f"no system file {path}") from None
        except json.JSONDecodeError as error:
            raise BrainlikeError(f"{path} is not valid JSON: {error}") from None
        return cls.from_dict(data)


def reference_system(name: str) -> System:
    """One of Tripp's small example systems (`tables.reference_systems()` lists them)."""
    systems = tables.reference_systems()
    if name not in systems:
        raise BrainlikeError(f"unknown reference system {name!r}; choose from {', '.join(systems)}")
    return System.from_dict(systems[name])


# ---------------------------------------------------------------------------------- macaque systems


def _interlaminar_in_degree(pre_layer: str, post_layer: str) -> float:
    """Inputs per post neuron from the pre layer in the Potjans & Diesmann (2014) 1 mm^2 microcircuit.

    Synapses per target K = ln(1 - C) / ln(1 - 1/(N_pre N_post)) / N_post (their eq. 1), divided by
    the synapses per connection (Fares & Stepanyants 2009) to count connected neurons, as CALC does.
    """
    choice = tables.read_json("macaque_choices.json")["potjans_diesmann_2014_excitatory_connection_probability"]
    circuit = tables.microcircuit()
    c = choice["probability"][post_layer][pre_layer]
    n_pre, n_post = (circuit[choice["population"][layer]]["n"] for layer in (pre_layer, post_layer))
    synapses = math.log(1 - c) / math.log(1 - 1 / (n_pre * n_post)) / n_post
    return synapses / tables.synapses_per_connection()


def _layer_fractions() -> dict[str, float]:
    """Share of an area's neurons in each layer (excitatory, feed-forward-projecting part)."""
    circuit = tables.microcircuit()
    choices = tables.read_json("macaque_choices.json")
    total = sum(v["n"] for v in circuit.values() if v["k_ext"] > 0)
    keep = choices["feedforward_fraction"]
    population = choices["potjans_diesmann_2014_excitatory_connection_probability"]["population"]
    return {layer: circuit[pop]["n"] / total * keep.get(layer, 1.0) for layer, pop in population.items()}


def _add_lgn_and_v1(system: System) -> None:
    lgn = tables.read_json("lgn.json")
    v1 = tables.read_json("v1_sublayers.json")
    choices = tables.read_json("macaque_choices.json")
    image = system.image
    for name, share in (
        ("parvo_LGN", "fraction_parvo"),
        ("magno_LGN", "fraction_magno"),
        ("konio_LGN", "fraction_konio_assumed"),
    ):
        facts = lgn["calc_populations"][name]
        system.add(
            name,
            lgn["n_LGN_neurons_one_side"] * lgn[share],
            facts["e_extrinsic_inputs_per_neuron"],
            facts["rf_width_multiplier_of_input_pixel"] * image.pixel_degrees,
        )
        system.connect_areas(image.name, name, 1.0)

    facts = tables.area_facts("V1")
    fraction = v1["fraction_of_total"]
    keep = choices["feedforward_fraction"]
    split = choices["v1_layer2_3_split"]
    e_v1 = v1["calc_v1_extrinsic_inputs_per_neuron"]
    system.add("V1_4Calpha", facts.neurons * fraction["4Calpha"], e_v1, facts.rf_diameter_deg)
    system.add("V1_4Cbeta", facts.neurons * fraction["4Cbeta"], e_v1, facts.rf_diameter_deg)
    system.add("V1_4B", facts.neurons * fraction["4B"])
    system.add("V1_2/3blob", facts.neurons * fraction["2/3"] * split["blob"])
    system.add("V1_2/3interblob", facts.neurons * fraction["2/3"] * split["interblob"])
    system.add("V1_5", facts.neurons * fraction["5"] * keep["5"])
    system.add("V1_6", facts.neurons * fraction["6"] * keep["6"])
    system.connect_areas("parvo_LGN", "V1_4Cbeta", 1.0)
    system.connect_areas("magno_LGN", "V1_4Calpha", 1.0)
    system.connect_areas("konio_LGN", "V1_2/3blob", 1.0)
    system.connect_areas("konio_LGN", "V1_2/3interblob", 1.0)
    b = _interlaminar_in_degree
    for pre, post, layers, share in (
        ("4Calpha", "4B", ("4", "4"), 1.0),
        ("4Cbeta", "2/3blob", ("4", "2/3"), 0.5),
        ("4Cbeta", "2/3interblob", ("4", "2/3"), 1.0),
        ("4Calpha", "2/3blob", ("4", "2/3"), 0.5),
        ("2/3blob", "5", ("2/3", "5"), 0.5),
        ("2/3interblob", "5", ("2/3", "5"), 0.5),
        ("4Cbeta", "5", ("4", "5"), 1.0),
        ("2/3blob", "6", ("2/3", "6"), 1.0),
        ("4Calpha", "6", ("4", "6"), 1.0),
        ("5", "6", ("5", "6"), 1.0),
    ):
        system.connect_layers(f"V1_{pre}", f"V1_{post}", b(*layers) * share)


def _add_area(system: System, area: str) -> None:
    facts = tables.area_facts(area)
    fractions = _layer_fractions()
    e = tables.microcircuit()["4E"]["k_ext"] / tables.synapses_per_connection()
    system.add(f"{area}_4", facts.neurons * fractions["4"], e, facts.rf_diameter_deg)
    for layer in ("2/3", "5", "6"):
        system.add(f"{area}_{layer}", facts.neurons * fractions[layer])
    for pre, post in (("4", "2/3"), ("2/3", "5"), ("4", "5"), ("2/3", "6"), ("5", "6")):
        system.connect_layers(f"{area}_{pre}", f"{area}_{post}", _interlaminar_in_degree(pre, post))


def _feedforward_sln(areas: list[str]) -> float:
    """Mean SLN of the measured feed-forward pairs: the stand-in where a pair's SLN was not measured."""
    level = {a: tables.area_facts(a).hierarchy_level for a in areas}
    values = [v for (t, s), v in tables.sln_table().items() if t in level and s in level and level[s] < level[t]]
    return sum(values) / len(values)


def _connect_streams(system: System, areas: list[str]) -> None:
    choices = tables.read_json("macaque_choices.json")
    stream = choices["area_stream"]
    split = choices["v1_layer2_3_split"]
    v2_share = choices["v2_stripe_share_of_v1_supragranular_input"]
    infra = choices["infragranular_l5_l6_split"]
    level = {a: tables.area_facts(a).hierarchy_level for a in areas}
    flne, sln = tables.flne_table(), tables.sln_table()
    default_sln = _feedforward_sln(areas)
    for target in areas:
        for source in areas:
            f = flne.get((target, source), 0.0)
            if source == target or level[source] >= level[target] or f == 0.0:
                continue
            s = sln.get((target, source), default_sln)
            supra, deep = f * s, f * (1 - s)
            if source == "V1" and target == "V2":
                sources = {k: v * supra for k, v in v2_share.items() if k.startswith("V1_")}
            elif source == "V1" and stream[target] == "dorsal":
                sources = {"V1_4B": supra}
            elif source == "V1":
                sources = {"V1_2/3blob": split["blob"] * supra, "V1_2/3interblob": split["interblob"] * supra}
            else:
                sources = {f"{source}_2/3": supra}
            sources.update({f"{source}_{layer}": share * deep for layer, share in infra.items() if layer != "source"})
            for pre, value in sources.items():
                system.connect_areas(pre, f"{target}_4", value)


def macaque_system(
    areas: Iterable[str] | None = None,
    *,
    pixels: float = 500,
    pixel_degrees: float = 0.2,
    miniaturize: float = 1.0,
    min_fraction: float = 0.0,
) -> System:
    """A feed-forward system of LGN, V1 and the given M132 areas, from the shipped tables.

    Defaults to the eight visual areas Markov et al. (2014) injected (`macaque_choices.json`).
    Inter-area projections run from lower to higher Markov hierarchy levels and end in L4, split by
    SLN between the source's L2/3 and its L5/L6; in-degrees come from the Potjans & Diesmann (2014)
    microcircuit, neuron counts from surface x thickness x NeuN density.
    """
    choices = tables.read_json("macaque_choices.json")
    areas = list(areas if areas is not None else choices["macaque_areas"])
    unknown = [a for a in areas if a != "V1" and a not in choices["area_stream"]]
    if "V1" not in areas or unknown:
        raise BrainlikeError(
            f"areas must include V1 and come from {', '.join(choices['macaque_areas'])}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    system = System(ImageInput(pixels=pixels, pixel_degrees=pixel_degrees))
    _add_lgn_and_v1(system)
    for area in areas:
        if area != "V1":
            _add_area(system, area)
    _connect_streams(system, areas)
    if miniaturize != 1.0:
        system.miniaturize(miniaturize)
    system.normalize_flne()
    if min_fraction > 0:
        system.prune_flne(min_fraction)
        system.normalize_flne()
    system.check_connected()
    return system


def ventral_system(**options: Any) -> System:
    """LGN -> V1 -> V2 -> V4 -> TEO -> TE (TEpd)."""
    return macaque_system(tables.read_json("macaque_choices.json")["ventral_areas"], **options)


def dorsal_system(**options: Any) -> System:
    """LGN -> V1 -> V2 -> MT -> DP / 7A."""
    return macaque_system(tables.read_json("macaque_choices.json")["dorsal_areas"], **options)
