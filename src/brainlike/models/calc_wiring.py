"""The CALC wiring rules, kept under their old name: they live in `brainlike.anatomy.wiring` (no torch)."""

from brainlike.anatomy.wiring import (  # noqa: F401
    REPICK_FACTOR,
    mask_density,
    padding,
    prepare,
    spatial_sizes,
)

__all__ = ["REPICK_FACTOR", "mask_density", "padding", "prepare", "spatial_sizes"]
