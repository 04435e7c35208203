"""Feed-forward macaque Systems (LGN, V1 sub-layers, layers of M132 areas) built from the shipped tables
(see `anatomy/data/SOURCES.md`)."""

from __future__ import annotations

import math
from typing import Any, Iterable

from brainlike.anatomy import tables
from brainlike.anatomy.system import PIXEL_DEGREES, ImageInput, System
from brainlike.errors import BrainlikeError


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
    pixel_degrees: float = PIXEL_DEGREES,
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
