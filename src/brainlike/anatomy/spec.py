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

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from brainlike.errors import BrainlikeError


@dataclass(frozen=True)
class LayerSpec:
    name: str
    channels: float
    width: float

    @property
    def area(self) -> str:
        """The brain area: the part before '_', except that LGN populations form one area 'LGN'."""
        return "LGN" if self.name.endswith("_LGN") else self.name.split("_")[0]


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
                tuple(LayerSpec(l["name"], float(l["channels"]), float(l["width"])) for l in data["layers"]),
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
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> "ArchitectureSpec":
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except FileNotFoundError:
            raise BrainlikeError(f"no architecture spec {path}") from None
        except json.JSONDecodeError as error:
            raise BrainlikeError(f"{path} is not valid JSON: {error}") from None


def spec_from_fit(result) -> ArchitectureSpec:
    """The ArchitectureSpec of a `fit.FitResult`."""
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
    """Plot a `calc fit` folder: log10 FLNe of system and network side by side, and the layer graph."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from brainlike.report import Report

    folder = Path(folder)
    try:
        fit = json.loads((folder / "fit.json").read_text())
        spec = ArchitectureSpec.load(folder / "network.json")
    except FileNotFoundError as error:
        raise BrainlikeError(f"{folder} is not a `brainlike calc fit` folder ({error.filename} missing)") from None
    names = [spec.input_name] + [layer.name for layer in spec.layers]
    index = {n: i for i, n in enumerate(names)}
    target, achieved = (np.full((len(names), len(names)), np.nan) for _ in range(2))
    for row in fit["comparison"]["projections"]:
        if row["kind"] == "f":
            pre, post = row["name"].split("->")
            target[index[post], index[pre]] = math.log10(row["target"])
            achieved[index[post], index[pre]] = math.log10(max(row["achieved"], 1e-12))
    figure, axes = plt.subplots(1, 2, figsize=(12, 5.5))
    low = np.nanmin([np.nanmin(target), np.nanmin(achieved)]) if np.isfinite(target).any() else -6
    for ax, matrix, title in zip(axes, (target, achieved), ("system (FLNe)", "fitted network")):
        image = ax.imshow(matrix, vmin=low, vmax=0, cmap="viridis")
        ax.set_title(f"log10 {title}")
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
        ax.set_yticks(range(len(names)), names, fontsize=6)
        ax.set_xlabel("source")
    axes[0].set_ylabel("target")
    figure.colorbar(image, ax=axes, shrink=0.7)
    report = Report(folder, "CALC fit")
    report.add_figure("flne", figure, caption="log10 FLNe, system vs fitted network")

    depth = {spec.input_name: 0}
    for layer in spec.layers:
        depth[layer.name] = 1 + max(depth[c.pre] for c in spec.connections if c.post == layer.name)
    rows: dict[int, list[str]] = {}
    for name in names:
        rows.setdefault(depth[name], []).append(name)
    position = {n: (d, i - (len(r) - 1) / 2) for d, r in rows.items() for i, n in enumerate(r)}
    figure, ax = plt.subplots(figsize=(max(6, 0.9 * len(rows)), 6))
    for c in spec.connections:
        (x0, y0), (x1, y1) = position[c.pre], position[c.post]
        ax.annotate(
            "",
            (x1, y1),
            (x0, y0),
            arrowprops={"arrowstyle": "->", "alpha": 0.4, "color": "C0" if c.inter_area else "C1"},
        )
    for name, (x, y) in position.items():
        ax.text(x, y, name, ha="center", va="center", fontsize=6, bbox={"boxstyle": "round", "fc": "white"})
    ax.set_xlim(-0.5, max(rows) + 0.5)
    ax.set_ylim(min(y for _, y in position.values()) - 1, max(y for _, y in position.values()) + 1)
    ax.axis("off")
    ax.set_title("layers (blue: inter-area, orange: inter-laminar)")
    report.add_figure("layers", figure, caption="layer graph")
    report.data.update(fit)
    report.add_section("Figures", "log10 FLNe of the system and of the fitted network; the layer graph.")
    report.write()
    return folder
