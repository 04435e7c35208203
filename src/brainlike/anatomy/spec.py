"""ArchitectureSpec: a fitted CALC network as plain JSON (layers and connections), ready to build.

    {"input": {"name": "INPUT", "channels": 3, "width": 500, "pixel_degrees": 0.2},
     "layers": [{"name": "V1_4Cbeta", "channels": 212.0, "width": 500.0}, ...],
     "connections": [{"pre": ..., "post": ..., "c": ..., "stride": 1, "kernel": 15.2, "sigma": ...,
                      "inter_area": true}, ...],
     "fit": {"total": ..., "terms": {...}, "seconds": ...}}

Channels and kernel widths are the fitted real numbers; `models.calc` rounds them when it builds the
network. Layers are listed inputs first.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from brainlike.anatomy.jsonfiles import read_json_file, write_json_file
from brainlike.errors import BrainlikeError


def area_of(name: str) -> str:
    """The brain area of a layer: the part of its name before '_', except that LGN layers form one area 'LGN'."""
    return "LGN" if name.endswith("_LGN") else name.split("_")[0]


@dataclass(frozen=True)
class LayerSpec:
    name: str
    channels: float
    width: float

    @property
    def area(self) -> str:
        return area_of(self.name)


@dataclass(frozen=True)
class ConnectionSpec:
    pre: str
    post: str
    c: float
    stride: int
    kernel: float
    sigma: float
    inter_area: bool = True

    @property
    def name(self) -> str:
        return f"{self.pre}->{self.post}"


@dataclass(frozen=True)
class ArchitectureSpec:
    input_name: str
    input_channels: int
    input_width: int
    pixel_degrees: float
    layers: tuple[LayerSpec, ...]
    connections: tuple[ConnectionSpec, ...]
    fit: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        names = {self.input_name} | {layer.name for layer in self.layers}
        if len(names) != len(self.layers) + 1:
            raise BrainlikeError("layer names in the spec must be unique and differ from the input")
        seen = {self.input_name}
        for layer in self.layers:
            if not layer.channels > 0 or not layer.width > 0:
                raise BrainlikeError(f"layer {layer.name}: channels and width must be positive")
            inbound = [c for c in self.connections if c.post == layer.name]
            if not inbound:
                raise BrainlikeError(f"layer {layer.name} has no inbound connection")
            if any(c.pre not in seen for c in inbound):
                raise BrainlikeError(f"layer {layer.name} is listed before one of its inputs")
            seen.add(layer.name)
        for c in self.connections:
            if c.pre not in names or c.post not in names:
                raise BrainlikeError(f"connection {c.name} names an unknown layer")
            if not (0 < c.c <= 1 and 0 < c.sigma <= 1 and c.stride >= 1 and c.kernel > 0):
                raise BrainlikeError(f"connection {c.name}: need 0 < c, sigma <= 1, stride >= 1, kernel > 0")

    def layer(self, name: str) -> LayerSpec:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise BrainlikeError(f"the spec has no layer {name!r}")

    @property
    def areas(self) -> list[str]:
        return list(dict.fromkeys(layer.area for layer in self.layers))

    def cumulative_stride(self, name: str) -> int:
        return round(self.input_width / self.layer(name).width)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        return {
            "input": {
                "name": self.input_name,
                "channels": self.input_channels,
                "width": self.input_width,
                "pixel_degrees": self.pixel_degrees,
            },
            "layers": [asdict(layer) for layer in self.layers],
            "connections": [asdict(c) for c in self.connections],
            "fit": self.fit,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ArchitectureSpec":
        try:
            inp = data["input"]
            return cls(
                inp["name"],
                int(inp["channels"]),
                int(inp["width"]),
                float(inp["pixel_degrees"]),
                tuple(
                    LayerSpec(layer["name"], float(layer["channels"]), float(layer["width"]))
                    for layer in data["layers"]
                ),
                tuple(
                    ConnectionSpec(
                        c["pre"],
                        c["post"],
                        float(c["c"]),
                        int(c["stride"]),
                        float(c["kernel"]),
                        float(c["sigma"]),
                        bool(c.get("inter_area", True)),
                    )
                    for c in data["connections"]
                ),
                dict(data.get("fit", {})),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise BrainlikeError(f"malformed architecture spec: {error!r}") from None

    def save(self, path: str | Path) -> None:
        write_json_file(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "ArchitectureSpec":
        return cls.from_dict(read_json_file(path, "architecture spec"))


def spec_from_fit(result) -> ArchitectureSpec:
    """The ArchitectureSpec of an `optimiser.FitResult`."""
    p = result.problem
    order = p.system.topological_order()
    index = {n: i for i, n in enumerate(p.names)}
    kernels = result.kernel_widths()
    layers = tuple(LayerSpec(n, float(p.m[index[n]]), float(p.width[index[n]])) for n in order[1:])
    by_post = {n: i for i, n in enumerate(order)}
    connections = sorted(
        (
            ConnectionSpec(
                proj.pre,
                proj.post,
                float(result.c[k]),
                int(p.stride[k]),
                float(kernels[k]),
                float(result.sigma[k]),
                proj.inter_area,
            )
            for k, proj in enumerate(p.system.projections)
        ),
        key=lambda c: by_post[c.post],
    )
    if not all(math.isfinite(c.kernel) for c in connections):
        raise BrainlikeError("the fit left a connection without a kernel (an RF narrower than its input)")
    fit = {"total": result.total, "terms": result.terms, "seconds": result.seconds, "method": result.method}
    return ArchitectureSpec(
        order[0], int(p.m[0]), int(p.image_res), float(p.pixel_degrees), layers, tuple(connections), fit
    )


def show_folder(folder: str | Path) -> Path:
    """Add figures to the report of a `calc fit` folder: log10 FLNe of system and network, and the layer graph."""
    from brainlike.reports import Report
    from brainlike.reports.figures.anatomy import flne_figure, layer_graph_figure

    folder = Path(folder)
    missing = [name for name in ("fit.json", "network.json") if not (folder / name).is_file()]
    if missing:
        raise BrainlikeError(f"{folder} is not a `brainlike calc fit` folder ({', '.join(missing)} missing)")
    fit = read_json_file(folder / "fit.json", "fit summary")
    spec = ArchitectureSpec.load(folder / "network.json")
    if (folder / "report.json").is_file():
        report = Report.read(folder)
    else:  # the fit's report is gone: start a new one
        report = Report(folder, "CALC fit")
        report.data.update(fit)
    report.add_figure("flne", flne_figure(*_flne_matrices(spec, fit)), caption="log10 FLNe, system vs fitted network")
    edges = [(c.pre, c.post, c.inter_area) for c in spec.connections]
    report.add_figure("layers", layer_graph_figure(_layer_positions(spec), edges), caption="layer graph")
    report.add_section("Figures", "log10 FLNe of the system and of the fitted network; the layer graph.")
    report.write()
    return folder


def _layer_names(spec: ArchitectureSpec) -> list[str]:
    return [spec.input_name] + [layer.name for layer in spec.layers]


def _flne_matrices(spec: ArchitectureSpec, fit: dict[str, Any]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Layer names and log10 FLNe [target, source] of the system and of the network (NaN: no projection)."""
    names = _layer_names(spec)
    index = {n: i for i, n in enumerate(names)}
    target, achieved = (np.full((len(names), len(names)), np.nan) for _ in range(2))
    for row in fit["comparison"]["projections"]:
        if row["kind"] == "f":
            pre, post = row["name"].split("->")
            target[index[post], index[pre]] = math.log10(row["target"])
            achieved[index[post], index[pre]] = math.log10(max(row["achieved"], 1e-12))
    return names, target, achieved


def _layer_positions(spec: ArchitectureSpec) -> dict[str, tuple[float, float]]:
    """Layers by depth (the longest path from the input) left to right, each column centred on 0."""
    depth = {spec.input_name: 0}
    for layer in spec.layers:
        depth[layer.name] = 1 + max(depth[c.pre] for c in spec.connections if c.post == layer.name)
    columns: dict[int, list[str]] = {}
    for name in _layer_names(spec):
        columns.setdefault(depth[name], []).append(name)
    return {n: (d, i - (len(c) - 1) / 2) for d, c in columns.items() for i, n in enumerate(c)}
