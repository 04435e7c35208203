"""V1 tuning properties from firing rates to the grating sets, per unit (Marques et al. 2021).

Each function takes rates shaped like its stimulus set's grid (phase last but one, units last) and
the blank rates, and returns `{property: values}` over all units plus the mask of units the
benchmark keeps (responsive ones). Definitions follow Brain-Score's Marques2020 benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brainlike.analysis.v1.protocol import (
    GSF_FRACTION,
    ORIENTATION_BANDWIDTH_THRESHOLD,
    PREFERRED_ORIENTATION_THRESHOLD,
    RESPONSE_THRESHOLD,
    SF_BANDWIDTH_THRESHOLD,
    SURROUND_PLATEAU_FRACTION,
    SURROUND_SUPPRESSION_THRESHOLD,
)
from brainlike.analysis.v1.tuning import (
    HANNING,
    SMOOTH,
    circular_variance,
    f1_amplitude,
    orientation_tuning,
    spatial_frequency_tuning,
)


@dataclass(frozen=True)
class PropertySet:
    """Values of some properties for every unit, which units each dataset keeps, and the tuning
    curve each unit's properties were read from (units, points)."""

    values: dict[str, np.ndarray]
    kept: dict[str, np.ndarray]
    curves: dict[str, np.ndarray]


def _pick(tensor: np.ndarray, flat_index: np.ndarray, axes: int) -> tuple[np.ndarray, ...]:
    """Per-unit flat argmax indices over the first `axes` axes of `tensor`, as one index per axis."""
    return np.unravel_index(flat_index, tensor.shape[:axes])


def _phase_components(rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Phase-averaged response (DC) and first-harmonic amplitude over phase (F1)."""
    dc = rates.mean(axis=-2)
    return dc, f1_amplitude(rates, axis=-2)


def orientation_properties(rates: np.ndarray, baseline: np.ndarray, orientations: np.ndarray) -> PropertySet:
    """Ringach 2002 and DeValois 1982a properties from the orientation set (cycles, SF, orientation,
    phase, units)."""
    dc, f1 = _phase_components(rates)
    units = dc.shape[-1]
    flat = dc.reshape(-1, units)
    best = flat.argmax(axis=0)
    cycles, sf, _ = _pick(dc, best, 3)
    unit = np.arange(units)
    max_dc = flat[best, unit]
    max_ac = f1.reshape(-1, units)[best, unit]
    curves = dc[cycles, sf, :, unit]  # (units, orientations)
    k = curves.argmax(axis=1)
    n = len(orientations)
    with np.errstate(invalid="ignore", divide="ignore"):
        opr = curves[unit, (k + n // 2) % n] / curves[unit, k]
        _, width = orientation_tuning(curves, orientations, kernel=HANNING, threshold=ORIENTATION_BANDWIDTH_THRESHOLD)
        bandwidth = width / 2
        cv = circular_variance(curves, orientations)
        preferred, _ = orientation_tuning(
            curves, orientations, kernel=SMOOTH, threshold=PREFERRED_ORIENTATION_THRESHOLD
        )
        values = {
            "baseline": baseline,
            "max_dc": max_dc,
            "min_dc": curves.min(axis=1),
            "max_ac": max_ac,
            "modulation_ratio": max_ac / max_dc,
            "circular_variance": cv,
            "bandwidth": bandwidth,
            "orthogonal_preferred_ratio": opr,
            "orientation_selective": (~np.isnan(bandwidth)).astype(float),
            "circular_variance_bandwidth_ratio": cv / bandwidth,
            "orthogonal_preferred_ratio_circular_variance_difference": opr - cv,
            "orthogonal_preferred_ratio_bandwidth_ratio": opr / bandwidth,
            "preferred_orientation": np.where(preferred >= 157.5, preferred - 180, preferred),
        }
    responsive = max_dc > baseline + RESPONSE_THRESHOLD
    kept = {name: responsive for name in values}
    return PropertySet(values, kept, {"orientation": curves})


def spatial_frequency_properties(rates: np.ndarray, baseline: np.ndarray, frequencies: np.ndarray) -> PropertySet:
    """DeValois 1982b peak SF and Schiller 1976 SF bandwidth/selectivity from the SF set (radius, SF,
    orientation, phase, units)."""
    dc, f1 = _phase_components(rates)
    units = dc.shape[-1]
    unit = np.arange(units)
    # DeValois: the larger of the baseline-subtracted DC and the F1 component.
    components = np.stack([dc - baseline, f1], axis=-2)  # (radius, SF, orientation, 2, units)
    best = components.reshape(-1, units).argmax(axis=0)
    radius, _, orientation, component = _pick(components, best, 4)
    peak_curves = components[radius, :, orientation, component, unit]
    peak_sf, _, _ = spatial_frequency_tuning(peak_curves, frequencies, threshold=SF_BANDWIDTH_THRESHOLD)
    # Schiller: the DC without baseline subtraction.
    best_dc = dc.reshape(-1, units).argmax(axis=0)
    radius, _, orientation = _pick(dc, best_dc, 3)
    dc_curves = dc[radius, :, orientation, unit]
    _, low, high = spatial_frequency_tuning(dc_curves, frequencies, threshold=SF_BANDWIDTH_THRESHOLD)
    bandwidth = 100 * low / high
    values = {
        "peak_spatial_frequency": peak_sf,
        "spatial_frequency_bandwidth": bandwidth,
        "spatial_frequency_selective": (~np.isnan(bandwidth)).astype(float),
    }
    peak_kept = components.reshape(-1, units).max(axis=0) > RESPONSE_THRESHOLD
    dc_kept = dc.reshape(-1, units).max(axis=0) > baseline + RESPONSE_THRESHOLD
    kept = {
        "peak_spatial_frequency": peak_kept,
        "spatial_frequency_bandwidth": dc_kept,
        "spatial_frequency_selective": dc_kept,
    }
    return PropertySet(values, kept, {"spatial_frequency": peak_curves})


def size_properties(rates: np.ndarray, baseline: np.ndarray, radii: np.ndarray) -> PropertySet:
    """Cavanaugh 2002 size tuning from the size set (radius, SF, orientation, phase, units)."""
    dc, f1 = _phase_components(rates)
    units = dc.shape[-1]
    unit = np.arange(units)
    components = np.stack([dc - baseline, f1], axis=-2)  # (radius, SF, orientation, 2, units)
    best = components.reshape(-1, units).argmax(axis=0)
    _, sf, orientation, component = _pick(components, best, 4)
    curves = components[:, sf, orientation, component, unit].T  # (units, radii)
    peak, peak_index, plateau = curves.max(axis=1), curves.argmax(axis=1), curves[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        ssi = (peak - plateau) / peak
    gsf = np.full(units, np.nan)
    surround = np.full(units, np.nan)
    for u in np.flatnonzero((peak > 0) & (ssi > SURROUND_SUPPRESSION_THRESHOLD)):
        s = curves[u]
        gsf[u] = 2 * radii[np.argmax(s >= GSF_FRACTION * peak[u])]
        beyond = (np.arange(len(radii)) > peak_index[u]) & (
            s <= plateau[u] + SURROUND_PLATEAU_FRACTION * abs(plateau[u])
        )
        if beyond.any():
            surround[u] = 2 * radii[np.argmax(beyond)]
    with np.errstate(invalid="ignore", divide="ignore"):
        values = {
            "surround_suppression_index": ssi,
            "grating_summation_field": gsf,
            "surround_diameter": surround,
            "strongly_suppressed": (ssi >= SURROUND_SUPPRESSION_THRESHOLD).astype(float),
            "surround_grating_summation_field_ratio": surround / gsf,
        }
    responsive = components.reshape(-1, units).max(axis=0) > RESPONSE_THRESHOLD
    return PropertySet(values, {name: responsive for name in values}, {"size": curves})
