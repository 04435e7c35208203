"""From a fitted CALC spec to the layers and connections a network is built of, as the original converter
does: c = 1 for inputs from the image and the LGN, V1 L4C output shares renormalised, c and sigma scaled
in log space, seeded channel subsampling that keeps projections mostly disjoint, pruning of unused maps,
connections and layers, odd kernels and whole strides.

Plain spec arithmetic (no torch), so that summaries of a network (`anatomy.summary`) need no network;
`models.calc` builds the modules from it."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from brainlike.anatomy.spec import ArchitectureSpec, ConnectionSpec, LayerSpec, area_of
from brainlike.errors import BrainlikeError

REPICK_FACTOR = 0.01


def prepare(
    spec: ArchitectureSpec, *, output: str, c_scale: float = 1.0, sigma_scale: float = 1.0, seed: int = 1
) -> tuple[list[LayerSpec], list[ConnectionSpec], list[list[int]]]:
    """The original `preprocess`: rounded maps, c rules and scaling, map subsampling, pruning, odd kernels.

    Returns the kept layers (inputs first), their connections and each connection's pre-map indices.
    """
    spec.layer(output)
    conns = _c_rules(spec, c_scale, sigma_scale)
    channels = {spec.input_name: spec.input_channels} | {layer.name: round(layer.channels) for layer in spec.layers}
    indices = _subsample(conns, channels, seed)
    _drop_unread_maps(conns, indices, channels, keep_all=(spec.input_name, output))
    conns, indices = _kept(conns, indices, lambda conn, idx: idx and channels[conn.post] > 0 and channels[conn.pre] > 0)
    alive = _alive(spec, output, conns)
    conns, indices = _kept(conns, indices, lambda conn, idx: conn.pre in alive and conn.post in alive)
    layers = [replace(layer, channels=channels[layer.name]) for layer in spec.layers if layer.name in alive]
    conns = [replace(conn, kernel=_odd(conn.kernel), stride=int(round(conn.stride))) for conn in conns]
    return layers, conns, indices


def _with_c(conn: ConnectionSpec, c: float) -> ConnectionSpec:
    """`conn` reading the fraction c of its pre maps, sigma changed to keep c * sigma, the in-degree the fit matched."""
    return replace(conn, c=c, sigma=min(1.0, conn.sigma * conn.c / c))


def _c_rules(spec: ArchitectureSpec, c_scale: float, sigma_scale: float) -> list[ConnectionSpec]:
    """c = 1 from the image and the LGN, V1 L4C output shares renormalised, then c^c_scale and sigma^sigma_scale."""
    conns = [
        _with_c(conn, 1.0) if conn.pre == spec.input_name or "LGN" in conn.pre else conn for conn in spec.connections
    ]
    for l4c in ("V1_4Calpha", "V1_4Cbeta"):
        outs = [k for k, conn in enumerate(conns) if conn.pre == l4c]
        total = sum(conns[k].c * conns[k].sigma for k in outs)
        for k in outs:
            conns[k] = _with_c(conns[k], conns[k].c * conns[k].sigma / total)
    return [replace(conn, c=conn.c**c_scale, sigma=min(1.0, conn.sigma**sigma_scale)) for conn in conns]


def _subsample(conns: list[ConnectionSpec], channels: dict[str, int], seed: int) -> list[list[int]]:
    """Each connection's pre maps, drawn (seeded) so that a layer's projections of one kind (to other areas,
    or within its area) mostly read different maps: a map drawn is REPICK_FACTOR times less likely again."""
    rng = np.random.RandomState(seed)
    preference = {name: {kind: np.ones(m) for kind in ("area", "layer")} for name, m in channels.items()}
    indices = []
    for conn in conns:
        m_pre = channels[conn.pre]
        kind = "layer" if area_of(conn.pre) == area_of(conn.post) else "area"
        p = preference[conn.pre][kind]
        chosen = np.sort(rng.choice(m_pre, int(round(m_pre * conn.c)), replace=False, p=p / p.sum()))
        p[chosen] *= REPICK_FACTOR
        indices.append(chosen.tolist())
    return indices


def _drop_unread_maps(conns: list, indices: list[list[int]], channels: dict, keep_all: tuple[str, ...]) -> None:
    """Drop the maps no connection reads from `channels` (except those of `keep_all`), renumbering `indices`."""
    for name in channels:
        if name in keep_all:
            continue
        outs = [k for k, conn in enumerate(conns) if conn.pre == name]
        used = sorted(set().union(*(indices[k] for k in outs))) if outs else []
        position = {old: new for new, old in enumerate(used)}
        for k in outs:
            indices[k] = [position[i] for i in indices[k]]
        channels[name] = len(used)


def _kept(conns: list[ConnectionSpec], indices: list[list[int]], keep) -> tuple[list, list]:
    """The connections, and their indices, for which keep(connection, indices) holds."""
    pairs = [(conn, idx) for conn, idx in zip(conns, indices) if keep(conn, idx)]
    return [conn for conn, _ in pairs], [idx for _, idx in pairs]


def _alive(spec: ArchitectureSpec, output: str, conns: list[ConnectionSpec]) -> set[str]:
    """The layers on a path from the input to the output."""
    reaches = {output}
    for layer in reversed(spec.layers):
        if any(conn.pre == layer.name and conn.post in reaches for conn in conns):
            reaches.add(layer.name)
    alive = {spec.input_name}
    for layer in spec.layers:
        if layer.name in reaches and any(conn.post == layer.name and conn.pre in alive for conn in conns):
            alive.add(layer.name)
    if output not in alive:
        raise BrainlikeError(f"after pruning, {output} is no longer connected to the input")
    return alive


def _odd(width: float) -> int:
    w = max(1, int(round(width)))
    return w + 1 if w % 2 == 0 else w


def padding(kernel: int) -> int:
    """The original's convolution padding: ceil((k - 1) / 2)."""
    return math.ceil((kernel - 1) / 2)


def mask_density(weights: int, sigma: float) -> float:
    """The fraction of a convolution's weights its fixed mask keeps (at least one)."""
    return max(1, round(weights * sigma)) / weights


def spatial_sizes(input_name: str, layers: list[LayerSpec], conns: list[ConnectionSpec], input_size: int) -> dict:
    """Each layer's output width for a square input, by the convolution arithmetic alone; a layer whose
    inbound maps would differ in size (the forward pass stacks them) is a clear error."""
    sizes = {input_name: input_size}
    for layer in layers:
        inbound = {
            (sizes[conn.pre] + 2 * padding(conn.kernel) - conn.kernel) // conn.stride + 1
            for conn in conns
            if conn.post == layer.name
        }
        if len(inbound) != 1:
            raise BrainlikeError(f"the inputs of {layer.name} have sizes {sorted(inbound)} at {input_size} px")
        sizes[layer.name] = inbound.pop()
    return sizes
