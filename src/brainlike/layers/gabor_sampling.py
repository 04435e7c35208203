"""Gabor parameters drawn from the empirical macaque V1 distributions (Dapello, Marques et al. 2020).

Parameters are sampled with the same numpy calls as the original VOneNet code, so a seed gives the
same orientations, spatial frequencies, phases and envelopes as there.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np
from scipy.stats import norm

from brainlike.errors import BrainlikeError


@lru_cache(maxsize=1)
def v1_histograms() -> dict:
    """The empirical V1 histograms the Gabor parameters are sampled from (see data/SOURCES.md)."""
    return json.loads(resources.files("brainlike.layers").joinpath("data/vonenet_params.json").read_text())


def _inverse_cdf(u: np.ndarray, counts, edges) -> np.ndarray:
    """Piecewise-linear inverse CDF of a histogram: uniform within each bin of `edges`."""
    p = np.asarray(counts, dtype=float)
    cdf = np.concatenate([[0.0], np.cumsum(p / p.sum())])
    return np.interp(u, cdf, np.asarray(edges, dtype=float))


def _sf_histogram(sf_min: float, sf_max: float, *, uniform: bool) -> tuple[np.ndarray, np.ndarray]:
    data = v1_histograms()["spatial_frequency"]
    edges = np.asarray(data["bins_cpd"], dtype=float)
    counts = np.ones(len(edges) - 1) if uniform else np.asarray(data["counts"], dtype=float)
    # The original keeps edges <= sf_max for the empirical histogram but < sf_max for the uniform one.
    upper = edges < sf_max if uniform else edges <= sf_max
    keep = np.flatnonzero(upper & (edges >= sf_min))
    if len(keep) < 2:
        raise BrainlikeError(f"no spatial-frequency bin lies within [{sf_min}, {sf_max}] cpd")
    return edges[keep[0] : keep[-1] + 1], counts[keep[0] : keep[-1]]


def sample_gabor_params(
    n: int,
    *,
    seed: int = 0,
    sf_corr: float = 0.75,
    sf_max: float = 9.0,
    sf_min: float = 0.0,
    uniform: bool = False,
) -> dict[str, np.ndarray]:
    """Draw `n` Gabor parameter sets: sf (cycles/deg), theta and phase (deg), nx, ny (periods).

    Empirical mode follows the V1 histograms, with nx and SF coupled by a Gaussian copula of
    correlation `sf_corr` and ny drawn from the nx-conditional row of the joint (nx, ny) table.
    `uniform` draws uniform orientation, log-uniform nx and ny, and equal mass per SF bin instead.
    """
    if n < 1:
        raise BrainlikeError(f"need at least one Gabor, not {n}")
    if not -1 <= sf_corr <= 1:
        raise BrainlikeError(f"sf_corr must lie in [-1, 1], not {sf_corr}")
    h = v1_histograms()
    rng = np.random.RandomState(seed)
    sf_edges, sf_counts = _sf_histogram(sf_min, sf_max, uniform=uniform)
    if uniform:
        phase = rng.uniform(0, 360, n)
        theta = rng.uniform(0, 180, n)
        low, high = h["uniform_alternative_rand_param_true"]["nx_range"]
        nx = 10 ** rng.uniform(np.log10(low), np.log10(high), n)
        ny = 10 ** rng.uniform(np.log10(low), np.log10(high), n)
        sf = 2 ** _inverse_cdf(rng.uniform(size=n), sf_counts, np.log2(sf_edges))
        return {"sf": sf, "theta": theta, "phase": phase, "nx": nx, "ny": ny}

    # Same draws, same order as the original, so a seed gives the original's parameters.
    phase = rng.uniform(0, 360, n)
    u_theta = rng.uniform(size=n)
    z = rng.multivariate_normal([0, 0], [[1, sf_corr], [sf_corr, 1]], n)
    v_ny = rng.uniform(size=n)

    orientation = h["orientation"]
    theta = _inverse_cdf(u_theta, orientation["counts"], orientation["bins_deg"])
    theta = np.where(theta < 0, theta + 180, theta)

    joint = np.asarray(h["nx_ny_joint"]["counts_rows_nx_cols_ny"], dtype=float)
    envelope_edges = np.asarray(h["nx_ny_joint"]["bins"], dtype=float)
    log_edges = np.log10(envelope_edges)
    nx = 10 ** _inverse_cdf(norm.cdf(z[:, 0]), joint.sum(axis=1), log_edges)
    rows = np.searchsorted(envelope_edges, nx, side="left") - 1
    ny = np.empty(n)
    for row in np.unique(rows):
        chosen = rows == row
        ny[chosen] = 10 ** _inverse_cdf(v_ny[chosen], joint[row], log_edges)
    sf = 2 ** _inverse_cdf(norm.cdf(z[:, 1]), sf_counts, np.log2(sf_edges))
    return {"sf": sf, "theta": theta, "phase": phase, "nx": nx, "ny": ny}
