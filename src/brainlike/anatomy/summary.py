"""`brainlike calc build`: what the network of a fitted spec is made of, from the spec alone.

Layers, convolutions, parameters and the output shape follow from the wiring (`anatomy.wiring`) and the
convolution arithmetic, so nothing is built or run and torch is never imported: a summary takes a moment
even for networks too large to build on a laptop (`calc_ventral`: 654 M parameters).
"""

from __future__ import annotations

from pathlib import Path

from brainlike.anatomy.spec import ArchitectureSpec
from brainlike.anatomy.wiring import mask_density, prepare, spatial_sizes


def build_summary(path: str | Path, *, output: str | None = None, input_size: int | None = None) -> str:
    """A text summary of the backbone a spec file builds (layers, connections, parameters, output shape)."""
    spec = ArchitectureSpec.load(path)
    output = output or spec.layers[-1].name
    layers, conns, indices = prepare(spec, output=output)
    size = input_size or spec.input_width
    width = spatial_sizes(spec.input_name, layers, conns, size)[output]
    channels = {layer.name: layer.channels for layer in layers}
    weights = [len(idx) * channels[conn.post] * conn.kernel**2 for conn, idx in zip(conns, indices)]
    parameters = sum(weights) + sum(channels[conn.post] for conn in conns) + 2 * sum(channels.values())
    lines = [
        f"CALC backbone from {path}: {len(layers)} layers, {len(conns)} convolutions, {parameters:,} parameters; "
        f"output {output} (1, {channels[output]}, {width}, {width}) for a {size} px input"
    ]
    for conn, idx, n in zip(conns, indices, weights):
        lines.append(
            f"  {conn.name:32s} in {len(idx):5d} out {channels[conn.post]:5d} "
            f"kernel {conn.kernel:3d} stride {conn.stride} density {mask_density(n, conn.sigma):.3f}"
        )
    return "\n".join(lines)
