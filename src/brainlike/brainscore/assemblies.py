"""Brain-Score's assembly types when brainscore-core is installed, plain xarray DataArrays otherwise.

Current Brain-Score (brainscore-core 2.4 and later) keeps them in
`brainscore_core.supported_data_standards.brainio.assemblies`; older releases had the separate `brainio`
package. A NeuroidAssembly indexes `presentation` by all its coordinates (a MultiIndex), which is how
Brain-Score's metrics select and split on stimulus_id, object_name and the rest.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=None)
def assembly_types() -> dict[str, type] | None:
    """{"neuroid": NeuroidAssembly, "behavioral": BehavioralAssembly, "data": DataAssembly}, or None."""
    for module in ("brainscore_core.supported_data_standards.brainio.assemblies", "brainio.assemblies"):
        try:
            assemblies = __import__(module, fromlist=["NeuroidAssembly"])
        except ImportError:
            continue
        return {
            "neuroid": assemblies.NeuroidAssembly,
            "behavioral": assemblies.BehavioralAssembly,
            "data": assemblies.DataAssembly,
        }
    return None


def make_assembly(kind: str, values: np.ndarray, dims: tuple[str, ...], coords: dict, attrs: dict | None = None):
    """An assembly of `kind` ("neuroid" or "behavioral") if Brain-Score is installed, else a DataArray."""
    import xarray as xr

    types = assembly_types()
    if types is None:
        return xr.DataArray(values, dims=dims, coords=coords, attrs=attrs or {})
    assembly = types[kind](values, coords=coords, dims=list(dims))
    assembly.attrs.update(attrs or {})
    return assembly
