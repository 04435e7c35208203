"""Tuning-curve measurements shared by the V1 properties, vectorised over units.

The protocol smooths a tuning curve, fits an interpolating cubic spline (scipy `UnivariateSpline`,
s=0) and reads peaks and cut-offs on a fine grid. With s=0 the spline's knots depend on the sample
positions only, so the fit is a linear map from samples to the fine grid: it is built once per grid
(by fitting the unit vectors) and applied to all units with one matrix product.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.interpolate import UnivariateSpline

# Smoothing kernels of the protocol ("smooth" and "hanning"), normalised to sum 1.
SMOOTH = np.array([0, 1 / 5, 1, 1 / 5, 0]) / (1 + 2 / 5)
HANNING = np.array([0, 2 / 5, 1, 2 / 5, 0]) / (1 + 4 / 5)


def f1_amplitude(responses: np.ndarray, axis: int) -> np.ndarray:
    """Amplitude of the first harmonic over equally spaced phases along `axis`."""
    n = responses.shape[axis]
    return np.abs(np.fft.fft(responses, axis=axis).take(1, axis=axis)) / n * 2


@functools.lru_cache(maxsize=16)
def _spline_matrix(samples: tuple[float, ...], grid: tuple[float, ...]) -> np.ndarray:
    x, fine = np.asarray(samples), np.asarray(grid)
    columns = [UnivariateSpline(x, basis, s=0)(fine) for basis in np.eye(len(x))]
    return np.stack(columns, axis=1)


def spline_on_grid(x: np.ndarray, curves: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Interpolating cubic spline of each row of `curves` (units, len(x)) evaluated on `grid`."""
    matrix = _spline_matrix(tuple(np.asarray(x, float)), tuple(np.asarray(grid, float)))
    return curves @ matrix.T


def _convolve_rows(curves: np.ndarray, kernel: np.ndarray, mode: str) -> np.ndarray:
    return np.stack([np.convolve(row, kernel, mode=mode) for row in curves]) if len(curves) else curves


ORIENTATION_GRID = np.arange(-180, 360, 1.0)


def orientation_tuning(
    curves: np.ndarray, orientations: np.ndarray, *, kernel: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Peak orientation (deg, 0..179 at 1 deg) and full width at `threshold` x peak (deg, NaN when a
    side never drops below it or the width exceeds 180) of orientation curves (units, orientations).

    The curve is tiled over three half-turns, smoothed with `kernel`, spline-interpolated and read at
    1-deg steps from -180 to 359; the peak is searched within 0..179.
    """
    curves = np.atleast_2d(np.asarray(curves, dtype=float))
    tiled = np.concatenate([curves] * 3, axis=1)
    angles = np.concatenate([orientations - 180, orientations, orientations + 180])
    fine = spline_on_grid(angles, _convolve_rows(tiled, kernel, "same"), ORIENTATION_GRID)
    first = int(np.searchsorted(ORIENTATION_GRID, 0))
    peak_index = first + np.argmax(fine[:, first : first + 180], axis=1)
    peak_value = fine[np.arange(len(fine)), peak_index]
    below = fine <= threshold * peak_value[:, None]
    index = np.arange(fine.shape[1])
    left = np.where(below & (index < peak_index[:, None]), index, -1).max(axis=1)
    right = np.where(below & (index > peak_index[:, None]), index, fine.shape[1]).min(axis=1)
    width = (right - left).astype(float)
    width[(left < 0) | (right >= fine.shape[1]) | (width > 180)] = np.nan
    return ORIENTATION_GRID[peak_index], width


def spatial_frequency_tuning(
    curves: np.ndarray, frequencies: np.ndarray, *, threshold: float, points: int = 100
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Peak SF, lower and upper cut-off SFs at `threshold` x peak (NaN when absent) of SF curves
    (units, frequencies), after edge-padded smoothing and a spline over log2 SF on `points` points."""
    curves = np.atleast_2d(np.asarray(curves, dtype=float))
    padded = np.concatenate([curves[:, :1]] * 2 + [curves] + [curves[:, -1:]] * 2, axis=1)
    smoothed = _convolve_rows(padded, SMOOTH, "valid")
    octaves = np.log2(frequencies)
    grid = np.linspace(octaves[0], octaves[-1], points)
    fine = spline_on_grid(octaves, smoothed, grid)
    peak_index = np.argmax(fine, axis=1)
    peak_value = fine[np.arange(len(fine)), peak_index]
    below = fine <= threshold * peak_value[:, None]
    index = np.arange(points)
    left = np.where(below & (index < peak_index[:, None]), index, -1).max(axis=1)
    right = np.where(below & (index > peak_index[:, None]), index, points).min(axis=1)
    low = np.where(left >= 0, 2.0 ** grid[np.clip(left, 0, points - 1)], np.nan)
    high = np.where(right < points, 2.0 ** grid[np.clip(right, 0, points - 1)], np.nan)
    return 2.0 ** grid[peak_index], low, high


def circular_variance(curves: np.ndarray, orientations: np.ndarray) -> np.ndarray:
    """1 - |sum r exp(2i theta)| / sum |r| per row of `curves` (units, orientations)."""
    phases = np.exp(2j * np.deg2rad(orientations))
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1 - np.abs(curves @ phases) / np.abs(curves).sum(axis=1)
