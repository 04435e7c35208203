"""Every layer of one feature set against every layer of another: `compare_models` and `step_trajectories`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from brainlike.analysis.similarity.estimators import bootstrap_weights, cka_values, kernel_stats
from brainlike.analysis.similarity.gram import centered_gram, rbf_kernel
from brainlike.analysis.similarity.methods import MatrixStore, Method
from brainlike.analysis.similarity.procrustes import procrustes_from_grams, psd_root, resampled_gram
from brainlike.analysis.similarity.result import SimilarityResult, StepTrajectory, trajectories
from brainlike.analysis.similarity.sources import FeatureSet, LayerKey, match_ids
from brainlike.errors import BrainlikeError


class Comparer:
    """Builds each layer's matrix once (per feature set) and compares layers with one method.

    All comparisons of one Comparer are over the same n stimuli and share the bootstrap resamples, so
    the intervals of different pairs come from the same draws of stimuli.
    """

    def __init__(
        self,
        method: Method,
        n: int,
        *,
        bootstrap: int = 100,
        seed: int = 0,
        memory_gb: float = 2.0,
        scratch: str | Path | None = None,
    ):
        minimum = 4 if method.name == "cka" and method.debiased else 3
        if n < minimum:
            raise BrainlikeError(f"{method.label} needs at least {minimum} stimuli in common, got {n}")
        if bootstrap < 0:
            raise BrainlikeError("the number of bootstrap samples cannot be negative")
        self.method, self.n, self.bootstrap, self.seed = method, n, bootstrap, seed
        self.weights = bootstrap_weights(n, bootstrap, seed)
        self.store = MatrixStore(memory_gb * 2**30, scratch)
        self.prepared: dict[tuple[int, LayerKey], object] = {}

    def __enter__(self) -> Comparer:
        return self

    def __exit__(self, *exc) -> None:
        self.store.close()
        self.prepared.clear()

    def prepare(self, features: FeatureSet, key: LayerKey, rows: np.ndarray):
        """The layer's matrix (and what the method needs of it), built on first use."""
        slot = (id(features), key)
        if slot not in self.prepared:
            self.prepared[slot] = self._build(features, key, rows)
        return self.prepared[slot]

    def _build(self, features: FeatureSet, key: LayerKey, rows: np.ndarray):
        if self.method.name == "rsa":
            from brainlike.analysis.rsa import rdm

            return self.store.keep(rdm(features.array(key, rows), self.method.metric))
        gram = centered_gram(features.blocks(key, rows), len(rows))
        if self.method.name == "procrustes":
            return self.store.keep(gram)
        if self.method.kernel == "rbf":
            gram, _ = rbf_kernel(gram, self.method.bandwidth)
        return kernel_stats(self.store.keep(gram), self.weights)

    def pair(self, p, q) -> np.ndarray:
        """(1 + bootstrap,) values of one pair of prepared layers: all stimuli, then each resample."""
        if self.method.name == "cka":
            return cka_values(p, q, self.weights, debiased=self.method.debiased)
        from brainlike.analysis.rsa import bootstrap_compare, compare_rdms

        if not self.bootstrap:
            return np.array([compare_rdms(p, q, self.method.comparison)])
        spread = bootstrap_compare(p, q, self.method.comparison, samples=self.bootstrap, seed=self.seed)
        return np.concatenate([[spread.value], spread.samples])

    def matrix(self, grams_a: list, grams_b: list) -> np.ndarray:
        """(len(a), len(b), 1 + bootstrap) values of every pair."""
        if self.method.name != "procrustes":
            return np.array([[self.pair(p, q) for q in grams_b] for p in grams_a])
        values = np.empty((len(grams_a), len(grams_b), self.weights.shape[1]))
        for s, w in enumerate(self.weights.T):
            resampled_b = [resampled_gram(q, w) for q in grams_b]
            for i, p in enumerate(grams_a):
                k = resampled_gram(p, w)
                root, trace = psd_root(k), float(np.trace(k))
                for j, q in enumerate(resampled_b):
                    values[i, j, s] = procrustes_from_grams(root, trace, q)
        return values


def _intervals(samples: np.ndarray, confidence: float):
    if samples.shape[-1] == 0:
        return None, None
    tail = (1 - confidence) / 2
    with np.errstate(all="ignore"):
        low = np.nanquantile(samples, tail, axis=-1)
        high = np.nanquantile(samples, 1 - tail, axis=-1)
    return low, high


def _as_set(features, label: str | None) -> FeatureSet:
    return features if isinstance(features, FeatureSet) else FeatureSet(features, label=label)


def compare_sets(
    comparer: Comparer,
    a: FeatureSet,
    b: FeatureSet,
    *,
    layers_a: Sequence | None = None,
    layers_b: Sequence | None = None,
    confidence: float = 0.95,
    progress: bool = False,
) -> SimilarityResult:
    """compare_models() with a Comparer that may be shared (its matrices are reused across calls)."""
    from tqdm import tqdm

    rows_a, rows_b, _ = match_ids(a, b)
    if len(rows_a) != comparer.n:
        raise BrainlikeError(f"this comparer is for {comparer.n} stimuli; {a.label} and {b.label} share {len(rows_a)}")
    keys_a, keys_b = a.select(layers_a), b.select(layers_b)
    bar = tqdm(total=len(keys_a) + len(keys_b), unit="layer", disable=not progress, desc=comparer.method.name)
    grams = []
    for features, keys, rows in ((a, keys_a, rows_a), (b, keys_b, rows_b)):
        built = []
        for key in keys:
            built.append(comparer.prepare(features, key, rows))
            bar.update()
        grams.append(built)
    bar.close()
    samples = comparer.matrix(*grams)
    low, high = _intervals(samples[..., 1:], confidence)
    method = comparer.method
    return SimilarityResult(
        a.label,
        b.label,
        method.label,
        method.higher_is_similar,
        keys_a,
        keys_b,
        samples[..., 0],
        low,
        high,
        comparer.n,
        comparer.bootstrap,
        confidence,
        {**method.settings, "seed": comparer.seed},
    )


def compare_models(
    a,
    b,
    *,
    method: str = "cka",
    kernel: str = "linear",
    debiased: bool = False,
    bandwidth: float = 1.0,
    metric: str = "correlation",
    comparison: str = "spearman",
    layers_a: Sequence | None = None,
    layers_b: Sequence | None = None,
    bootstrap: int = 100,
    seed: int = 0,
    confidence: float = 0.95,
    memory_gb: float = 2.0,
    scratch: str | Path | None = None,
    labels: tuple[str, str] | None = None,
    progress: bool = True,
) -> SimilarityResult:
    """The similarity of every (area, step) of `a` to every (area, step) of `b`.

    a, b: features files from `brainlike extract`, mappings of layer -> (stimulus, ...) array, or
    FeatureSets; stimuli are matched by id (the stimuli of one must all be in the other). method: "cka"
    (kernel "linear" or "rbf" with sigma = bandwidth x the median distance between stimuli; debiased: the
    unbiased HSIC estimator), "rsa" (RDMs with `metric`, compared with `comparison`) or "procrustes"
    (a distance: 0 = the same up to rotation, translation and scale). bootstrap: resamples of the stimuli
    for percentile intervals at `confidence`. memory_gb: N x N matrices kept in memory beyond this go to
    memory-mapped files in `scratch` (default: the system's temporary folder).
    """
    chosen = Method(method, kernel, debiased, bandwidth, metric, comparison)
    if not 0 < confidence < 1:
        raise BrainlikeError(f"confidence must be between 0 and 1, not {confidence}")
    first, second = labels or (None, None)
    set_a = _as_set(a, first)
    set_b = set_a if b is a else _as_set(b, second)
    rows, _, _ = match_ids(set_a, set_b)
    with Comparer(chosen, len(rows), bootstrap=bootstrap, seed=seed, memory_gb=memory_gb, scratch=scratch) as comparer:
        return compare_sets(
            comparer, set_a, set_b, layers_a=layers_a, layers_b=layers_b, confidence=confidence, progress=progress
        )


def recurrent_layers(features: FeatureSet) -> list[LayerKey]:
    """The layers of the areas that have more than one step."""
    steps = {}
    for key in features.layers:
        if key.step is not None:
            steps.setdefault(key.area, []).append(key)
    return [k for keys in steps.values() if len(keys) > 1 for k in keys]


def step_trajectories(features, *, comparer: Comparer | None = None, **options) -> list[StepTrajectory]:
    """For each area with several steps: every step's similarity to the area's first and to its last step.

    options: those of compare_models (method, kernel, bootstrap, ...); or a shared `comparer`.
    """
    features = _as_set(features, options.pop("label", None))
    layers = recurrent_layers(features)
    if not layers:
        return []
    if comparer is None:
        result = compare_models(features, features, layers_a=layers, layers_b=layers, **options)
    else:
        result = compare_sets(comparer, features, features, layers_a=layers, layers_b=layers)
    return trajectories(result)
