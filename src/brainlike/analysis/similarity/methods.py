"""Which comparison, with which settings; and the per-layer matrices it is computed from.

Every method works from one N x N matrix per layer, built once and shared by all the pairs the layer is in:
the (column-centred) linear Gram matrix for linear CKA and Procrustes, the RBF kernel for RBF CKA, the RDM
for RSA. Matrices beyond the memory budget are kept in memory-mapped files in a scratch folder.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brainlike.analysis.rsa import COMPARISONS, METRICS
from brainlike.errors import BrainlikeError

METHODS = ("cka", "rsa", "procrustes")
KERNELS = ("linear", "rbf")


@dataclass(frozen=True)
class Method:
    """cka (kernel linear or rbf, optionally debiased), rsa (RDM metric and comparison) or procrustes."""

    name: str = "cka"
    kernel: str = "linear"
    debiased: bool = False
    bandwidth: float = 1.0
    metric: str = "correlation"
    comparison: str = "spearman"

    def __post_init__(self):
        if self.name not in METHODS:
            raise BrainlikeError(f"method must be one of {', '.join(METHODS)}, not {self.name!r}")
        if self.kernel not in KERNELS:
            raise BrainlikeError(f"kernel must be one of {', '.join(KERNELS)}, not {self.kernel!r}")
        if self.metric not in METRICS:
            raise BrainlikeError(f"RDM metric must be one of {', '.join(METRICS)}, not {self.metric!r}")
        if self.comparison not in COMPARISONS:
            raise BrainlikeError(f"RDM comparison must be one of {', '.join(COMPARISONS)}, not {self.comparison!r}")
        if not self.bandwidth > 0:
            raise BrainlikeError(f"the RBF bandwidth must be positive, not {self.bandwidth}")

    @property
    def label(self) -> str:
        if self.name == "rsa":
            return f"RSA ({self.metric} RDMs, {self.comparison})"
        if self.name == "procrustes":
            return "Procrustes distance"
        kernel = "linear" if self.kernel == "linear" else f"RBF (sigma = {self.bandwidth:g} x median distance)"
        return f"{'debiased ' if self.debiased else ''}{kernel} CKA"

    @property
    def higher_is_similar(self) -> bool:
        return self.name != "procrustes"

    @property
    def settings(self) -> dict:
        """The settings that matter for this method (for reports)."""
        if self.name == "rsa":
            return {"method": "rsa", "metric": self.metric, "comparison": self.comparison}
        if self.name == "procrustes":
            return {"method": "procrustes"}
        extra = {"bandwidth": self.bandwidth} if self.kernel == "rbf" else {}
        return {"method": "cka", "kernel": self.kernel, "debiased": self.debiased, **extra}


class MatrixStore:
    """Keeps N x N matrices in memory up to `budget` bytes, and the rest in memory-mapped scratch files."""

    def __init__(self, budget: float, scratch: str | Path | None = None):
        self.budget, self.used, self.scratch = budget, 0, scratch
        self.folder: Path | None = None
        self.count = 0

    def keep(self, matrix: np.ndarray) -> np.ndarray:
        if self.used + matrix.nbytes <= self.budget:
            self.used += matrix.nbytes
            return matrix
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="brainlike-similarity-", dir=self.scratch))
        self.count += 1
        path = self.folder / f"matrix{self.count}.npy"
        mapped = np.lib.format.open_memmap(path, mode="w+", dtype=matrix.dtype, shape=matrix.shape)
        mapped[...] = matrix
        mapped.flush()
        del mapped
        return np.load(path, mmap_mode="r")

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> MatrixStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
