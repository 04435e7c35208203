"""How well model features predict recorded neural responses, per area and time step.

Neural data: responses of shape (stimulus, neuroid) or (repetition, stimulus, neuroid) with one id per
stimulus, from `.npz` / `.h5` (arrays `stimulus_id`, `responses`, optional `neuroid_id`) or `.nc` (an
xarray DataArray with dims `stimulus` and `neuroid`, optional `repetition`). Stimuli are matched to the
features by id.

Predictivity: a cross-validated linear map from features to the trial-averaged responses (ridge with
the penalty chosen per neuroid by efficient leave-one-out inside each training fold, or PLS with 25
components as Brain-Score uses), scored by the Pearson r per neuroid on held-out stimuli. The noise
ceiling is the split-half correlation between trial averages, Spearman-Brown corrected, as Brain-Score
computes it; the normalised score is median r / median ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from brainlike.errors import BrainlikeError

METHODS = ("ridge", "pls", "rsa")
RIDGE_ALPHAS = np.logspace(-3, 7, 11)
PLS_COMPONENTS = 25


# --------------------------------------------------------------------------------------- data

@dataclass(frozen=True)
class NeuralData:
    """Responses (repetition, stimulus, neuroid); one repetition when only averages were given."""

    stimulus_ids: list[str]
    responses: np.ndarray
    neuroid_ids: list[str] = field(default_factory=list)

    def __post_init__(self):
        r = self.responses
        if r.ndim != 3:
            raise BrainlikeError(f"neural responses must be (stimulus, neuroid) or (repetition, stimulus, "
                                 f"neuroid), got shape {r.shape}")
        if r.shape[1] != len(self.stimulus_ids):
            raise BrainlikeError(f"{len(self.stimulus_ids)} stimulus ids for {r.shape[1]} stimuli in the responses")
        if len(set(self.stimulus_ids)) != len(self.stimulus_ids):
            raise BrainlikeError("neural stimulus ids must be unique (put repetitions on their own axis)")
        if not np.isfinite(r).all():
            raise BrainlikeError("neural responses contain NaN or infinite values")

    @property
    def mean(self) -> np.ndarray:
        return self.responses.mean(axis=0)

    @property
    def repetitions(self) -> int:
        return self.responses.shape[0]


def neural_data(stimulus_ids: Sequence[str], responses, neuroid_ids: Sequence[str] | None = None) -> NeuralData:
    responses = np.asarray(responses, dtype=np.float64)
    if responses.ndim == 2:
        responses = responses[None]
    ids = [str(i) for i in stimulus_ids]
    neuroids = [str(i) for i in neuroid_ids] if neuroid_ids is not None else \
        [str(i) for i in range(responses.shape[-1])]
    if len(neuroids) != responses.shape[-1]:
        raise BrainlikeError(f"{len(neuroids)} neuroid ids for {responses.shape[-1]} neuroids")
    return NeuralData(ids, responses, neuroids)


def _strings(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(values).ravel()]


def load_neural(path: str | Path) -> NeuralData:
    """Neural data from `.npz`, `.h5`/`.hdf5` or `.nc` (see the module docstring for the layout)."""
    path = Path(path)
    if not path.is_file():
        raise BrainlikeError(f"no neural data file at {path}")
    suffix = path.suffix.lower()
    if suffix == ".nc":
        return _load_netcdf(path)
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    elif suffix in (".h5", ".hdf5"):
        import h5py

        with h5py.File(path, "r") as handle:
            arrays = {k: handle[k][()] for k in handle if isinstance(handle[k], h5py.Dataset)}
    else:
        raise BrainlikeError(f"neural data must be .npz, .h5 or .nc, not {path.name}")
    missing = [k for k in ("stimulus_id", "responses") if k not in arrays]
    if missing:
        raise BrainlikeError(f"{path} lacks {' and '.join(missing)}; it has {', '.join(sorted(arrays)) or 'nothing'}")
    neuroids = _strings(arrays["neuroid_id"]) if "neuroid_id" in arrays else None
    return neural_data(_strings(arrays["stimulus_id"]), arrays["responses"], neuroids)


def _load_netcdf(path: Path) -> NeuralData:
    import xarray as xr

    try:
        array = xr.load_dataarray(path)
    except (ValueError, OSError) as error:
        raise BrainlikeError(f"cannot read {path} as one xarray DataArray: {error}") from None
    extra = set(array.dims) - {"stimulus", "neuroid", "repetition"}
    if {"stimulus", "neuroid"} - set(array.dims) or extra:
        raise BrainlikeError(f"{path} must have dims stimulus, neuroid and optionally repetition; "
                             f"it has {', '.join(map(str, array.dims))}")
    order = [d for d in ("repetition", "stimulus", "neuroid") if d in array.dims]
    array = array.transpose(*order)
    ids = array["stimulus_id"].values if "stimulus_id" in array.coords else array["stimulus"].values
    neuroids = array["neuroid"].values if "neuroid" in array.coords else None
    return neural_data(_strings(ids), array.values, None if neuroids is None else _strings(neuroids))


def match_stimuli(feature_ids: Sequence[str], neural_ids: Sequence[str]) -> np.ndarray:
    """Row of each neural stimulus in the features; every neural id must be among the feature ids."""
    where = {s: i for i, s in enumerate(feature_ids)}
    missing = [s for s in neural_ids if s not in where]
    if missing:
        raise BrainlikeError(
            f"{len(missing)} of {len(neural_ids)} neural stimulus ids are not in the features "
            f"(e.g. {missing[0]!r}; feature ids look like {feature_ids[0]!r}); the ids must match exactly")
    return np.array([where[s] for s in neural_ids])


# --------------------------------------------------------------------------------------- statistics

def pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r between matching columns of a and b (N, M); 0 where a column is constant."""
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    norm = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=0) / norm
    return np.where(norm > 0, r, 0.0)


def spearman_brown(r: np.ndarray, factor: float = 2.0) -> np.ndarray:
    """Reliability of `factor` times as many trials from the reliability r."""
    return factor * r / (1 + (factor - 1) * r)


def split_half_means(responses: np.ndarray, *, splits: int, seed: int, what: str):
    """Yield `splits` random pairs of disjoint half-means over the repetitions of (repetition, ...)."""
    reps = responses.shape[0]
    if reps < 2:
        raise BrainlikeError(f"{what} needs at least 2 repetitions per stimulus")
    rng = np.random.default_rng(seed)
    for _ in range(splits):
        order = rng.permutation(reps)
        yield (responses[order[:reps // 2]].mean(axis=0),
               responses[order[reps // 2:2 * (reps // 2)]].mean(axis=0))


def noise_ceiling(responses: np.ndarray, *, splits: int = 10, seed: int = 0) -> np.ndarray:
    """Per-neuroid split-half consistency of (repetition, stimulus, neuroid), Spearman-Brown corrected."""
    halves = split_half_means(responses, splits=splits, seed=seed, what="a noise ceiling")
    return np.mean([spearman_brown(pearson_columns(a, b)) for a, b in halves], axis=0)


def _regression(method: str, n_train: int, n_features: int):
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if method == "ridge":
        return make_pipeline(StandardScaler(), RidgeCV(alphas=RIDGE_ALPHAS, alpha_per_target=True))
    return PLSRegression(n_components=max(1, min(PLS_COMPONENTS, n_features, n_train - 1)), scale=False)


@dataclass(frozen=True)
class Predictivity:
    """Held-out Pearson r per neuroid (mean over folds) and the summary scores."""

    r: np.ndarray
    score: float
    ceiling: np.ndarray | None
    ceiling_score: float | None
    normalized: float | None


def predictivity(features, responses, *, method: str = "ridge", folds: int = 5, seed: int = 0,
                 ceiling: np.ndarray | None = None) -> Predictivity:
    """Cross-validated linear predictivity of responses (N, M) or (repetition, N, M) from features (N, ...)."""
    from sklearn.model_selection import KFold

    if method not in ("ridge", "pls"):
        raise BrainlikeError(f"regression method must be ridge or pls, not {method!r}")
    x = np.asarray(features, dtype=np.float64)
    x = x.reshape(len(x), -1)
    y_all = np.asarray(responses, dtype=np.float64)
    if y_all.ndim == 2:
        y_all = y_all[None]
    if y_all.ndim != 3 or y_all.shape[1] != len(x):
        raise BrainlikeError(f"responses of shape {y_all.shape} do not fit {len(x)} stimuli of features")
    if len(x) < 2 * folds:
        raise BrainlikeError(f"{len(x)} stimuli are too few for {folds}-fold cross-validation")
    y = y_all.mean(axis=0)
    per_fold = []
    for train, test in KFold(folds, shuffle=True, random_state=seed).split(x):
        model = _regression(method, len(train), x.shape[1]).fit(x[train], y[train])
        per_fold.append(pearson_columns(np.asarray(model.predict(x[test])).reshape(len(test), -1), y[test]))
    r = np.mean(per_fold, axis=0)
    if ceiling is None and y_all.shape[0] >= 2:
        ceiling = noise_ceiling(y_all, seed=seed)
    score = float(np.median(r))
    ceiling_score = float(np.median(ceiling)) if ceiling is not None else None
    normalized = score / ceiling_score if ceiling_score and ceiling_score > 0 else None
    return Predictivity(r, score, ceiling, ceiling_score, normalized)


def rdm_ceiling(responses: np.ndarray, *, metric: str = "correlation", splits: int = 10, seed: int = 0) -> float:
    """Split-half Spearman agreement of neural RDMs from (repetition, stimulus, neuroid), Spearman-Brown corrected."""
    from brainlike.analysis.rsa import compare_rdms, rdm

    halves = split_half_means(responses, splits=splits, seed=seed, what="an RDM ceiling")
    return float(np.mean([spearman_brown(np.array(compare_rdms(rdm(a, metric), rdm(b, metric), "spearman")))
                          for a, b in halves]))


# --------------------------------------------------------------------------------------- comparison

@dataclass(frozen=True)
class LayerScore:
    area: str
    step: int
    layer: str
    time_bin_ms: tuple[float, float] | None
    score: float
    ceiling: float | None
    normalized: float | None
    ci: tuple[float, float] | None = None


def compare_features(features: str | Path, neural: str | Path | NeuralData, *, method: str = "ridge",
                     folds: int = 5, seed: int = 0, bootstrap: int = 100, metric: str = "correlation",
                     progress: bool = True) -> list[LayerScore]:
    """Score every (area, step) of a features file against neural data, reading one layer at a time."""
    from tqdm import tqdm

    from brainlike.analysis.features import feature_layers, load_layer, stimulus_ids
    from brainlike.analysis.rsa import bootstrap_compare, compare_rdms, rdm

    if method not in METHODS:
        raise BrainlikeError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    data = neural if isinstance(neural, NeuralData) else load_neural(neural)
    rows = match_stimuli(stimulus_ids(features), data.stimulus_ids)
    if len(rows) < 3:
        raise BrainlikeError(f"only {len(rows)} stimuli in common; a comparison needs more")
    if method == "rsa":
        neural_rdm = rdm(data.mean, metric)
        ceiling = rdm_ceiling(data.responses, metric=metric, seed=seed) if data.repetitions > 1 else None
    else:
        ceiling = noise_ceiling(data.responses, seed=seed) if data.repetitions > 1 else None
    scores = []
    for area, step in tqdm(feature_layers(features), unit="layer", disable=not progress, desc=method):
        layer = load_layer(features, area, step)
        x = layer.values[rows].reshape(len(rows), -1)
        start, end = layer.attrs["time_bin_ms"]
        time_bin = None if np.isnan(start) else (start, end)
        if method == "rsa":
            model_rdm = rdm(x, metric)
            if bootstrap:
                spread = bootstrap_compare(model_rdm, neural_rdm, "spearman", samples=bootstrap, seed=seed)
                score, ci = spread.value, (spread.ci_low, spread.ci_high)
            else:
                score, ci = compare_rdms(model_rdm, neural_rdm, "spearman"), None
            scores.append(LayerScore(area, step, layer.name, time_bin, score, ceiling,
                                     score / ceiling if ceiling else None, ci))
        else:
            fit = predictivity(x, data.responses, method=method, folds=folds, seed=seed, ceiling=ceiling)
            scores.append(LayerScore(area, step, layer.name, time_bin, fit.score, fit.ceiling_score,
                                     fit.normalized))
    return scores


def score_heatmap(scores: Sequence[LayerScore], title: str):
    """Figure: score per area (rows) x time step (columns); blank where an area has no such step."""
    import matplotlib.pyplot as plt

    areas = list(dict.fromkeys(s.area for s in scores))
    steps = max(s.step for s in scores) + 1
    grid = np.full((len(areas), steps), np.nan)
    for s in scores:
        grid[areas.index(s.area), s.step] = s.normalized if s.normalized is not None else s.score
    figure, axis = plt.subplots(figsize=(1.2 + 0.9 * steps, 0.8 + 0.6 * len(areas)))
    image = axis.imshow(grid, cmap="viridis", aspect="auto")
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value):
            axis.text(j, i, f"{value:.2f}", ha="center", va="center", color="w", fontsize=8)
    axis.set_xticks(range(steps), [f"t{t}" for t in range(steps)])
    axis.set_yticks(range(len(areas)), areas)
    axis.set_xlabel("time step")
    axis.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axis)
    return figure


def compare_report(features: str | Path, neural: str | Path, output: str | Path, *, method: str = "ridge",
                   folds: int = 5, seed: int = 0, bootstrap: int = 100, progress: bool = True) -> Path:
    """`brainlike compare`: scores per area and step as report.json, report.md and a heatmap PNG."""
    from brainlike.report import Report, markdown_table

    scores = compare_features(features, neural, method=method, folds=folds, seed=seed, bootstrap=bootstrap,
                              progress=progress)
    what = "RDM Spearman rho" if method == "rsa" else f"{method} predictivity (median Pearson r)"
    ceiled = scores[0].ceiling is not None
    report = Report(Path(output), f"{Path(features).name} vs {Path(neural).name}: {what}")
    best = max(scores, key=lambda s: s.normalized if s.normalized is not None else s.score)
    report.add_section("Best layer", f"{best.layer} ({best.area}, step {best.step}): score {best.score:.3f}"
                       + (f", ceiling-normalised {best.normalized:.3f}" if best.normalized is not None else ""))
    rows = [[s.layer, s.area, s.step, "-" if s.time_bin_ms is None else f"{s.time_bin_ms[0]:g}-{s.time_bin_ms[1]:g}",
             s.score, "-" if s.ceiling is None else s.ceiling, "-" if s.normalized is None else s.normalized,
             "-" if s.ci is None else f"{s.ci[0]:.3f}..{s.ci[1]:.3f}"] for s in scores]
    report.add_section("Scores per area and time step", markdown_table(
        ["layer", "area", "step", "time bin ms", "score", "ceiling", "normalised", "95% CI"], rows))
    if not ceiled:
        report.add_section("Noise ceiling", "The neural data has one repetition per stimulus, so no ceiling "
                                            "was estimated and the heatmap shows raw scores.")
    report.data.update(method=method, folds=folds, seed=seed, features=str(features), neural=str(neural),
                       best_layer=best.layer, scores=scores)
    report.add_figure("scores", score_heatmap(scores, what + (" / ceiling" if ceiled else "")),
                      caption=f"{what} per area and time step")
    return report.write()
