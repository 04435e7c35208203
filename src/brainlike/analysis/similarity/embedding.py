"""Stimuli laid out from an RDM: classical MDS coordinates, and an ordering that puts similar stimuli together."""

from __future__ import annotations

import numpy as np

from brainlike.errors import BrainlikeError


def classical_mds(dissimilarities: np.ndarray, dimensions: int = 2) -> np.ndarray:
    """(N, dimensions) coordinates whose distances best match the dissimilarities (Torgerson's classical
    scaling: the top eigenvectors of the double-centred -D^2 / 2); axes with no variance are 0."""
    d = np.asarray(dissimilarities, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise BrainlikeError(f"MDS needs a square dissimilarity matrix, got shape {d.shape}")
    n = len(d)
    centred = -0.5 * d**2
    centred -= centred.mean(axis=0, keepdims=True)
    centred -= centred.mean(axis=1, keepdims=True)
    values, vectors = np.linalg.eigh((centred + centred.T) / 2)
    top = np.argsort(values)[::-1][:dimensions]
    coordinates = np.zeros((n, dimensions))
    kept = np.clip(values[top], 0.0, None)
    coordinates[:, : len(top)] = vectors[:, top] * np.sqrt(kept)
    # eigenvectors have no sign: fix it so the largest coordinate of each axis is positive
    flip = np.sign(coordinates[np.abs(coordinates).argmax(axis=0), range(dimensions)])
    return coordinates * np.where(flip == 0, 1.0, flip)


def cluster_order(dissimilarities: np.ndarray) -> np.ndarray:
    """An order of the stimuli with similar ones next to each other: the leaves of an average-linkage
    clustering of the RDM, optimally ordered."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    d = np.asarray(dissimilarities, dtype=np.float64)
    if len(d) < 3:
        return np.arange(len(d))
    condensed = squareform(np.maximum((d + d.T) / 2, 0.0), checks=False)
    return leaves_list(linkage(condensed, method="average", optimal_ordering=len(d) <= 2000))
