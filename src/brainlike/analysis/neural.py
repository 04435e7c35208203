"""How well model features predict recorded neural responses, per area and time step.

Neural data: responses of shape (stimulus, neuroid) or (repetition, stimulus, neuroid) with one id per
stimulus, from `.npz` / `.h5` (arrays `stimulus_id`, `responses`, optional `neuroid_id`) or `.nc` (an
xarray DataArray with dims `stimulus` and `neuroid`, optional `repetition`). Stimuli are matched to the
features by id. Recordings binned in time add a last axis of time bins: `.npz` / `.h5` give their
(start, end) in ms as `time_bin_ms` (shape (bins, 2)), `.nc` as a `time_bin` dim with coordinates
`time_bin_start` and `time_bin_end`, as Brain-Score's assemblies do.

Predictivity: a cross-validated linear map from features to the trial-averaged responses (ridge with
the penalty chosen per neuroid by efficient leave-one-out inside each training fold, or PLS with 25
components as Brain-Score uses), scored by the Pearson r per neuroid on held-out stimuli. The noise
ceiling is the split-half correlation between trial averages, Spearman-Brown corrected, as Brain-Score
computes it; the normalised score is median r / median ceiling. Time-binned data is scored bin by bin
against every model layer, and each area's layer that the model's time mapping assigns to a bin (the
step whose committed bin starts nearest, as in the Brain-Score adapter) is marked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from brainlike.errors import BrainlikeError
from brainlike.registry import TimeBin, nearest_step

METHODS = ("ridge", "pls", "rsa")
RIDGE_ALPHAS = np.logspace(-3, 7, 11)
PLS_COMPONENTS = 25


# --------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class NeuralData:
    """Responses (repetition, stimulus, neuroid), with a last axis of time bins when `time_bins_ms` is
    given; one repetition when only averages were given."""

    stimulus_ids: list[str]
    responses: np.ndarray
    neuroid_ids: list[str]
    time_bins_ms: tuple[TimeBin, ...] = ()

    def __post_init__(self):
        r = self.responses
        if self.time_bins_ms:
            if r.ndim != 4 or r.shape[-1] != len(self.time_bins_ms):
                raise BrainlikeError(
                    f"time-binned neural responses must be (stimulus, neuroid, time_bin) or "
                    f"(repetition, stimulus, neuroid, time_bin) with {len(self.time_bins_ms)} "
                    f"time bins, got shape {r.shape}"
                )
        elif r.ndim != 3:
            raise BrainlikeError(
                f"neural responses must be (stimulus, neuroid) or (repetition, stimulus, "
                f"neuroid), got shape {r.shape} (time-binned data needs its time_bin_ms)"
            )
        if r.shape[1] != len(self.stimulus_ids):
            raise BrainlikeError(f"{len(self.stimulus_ids)} stimulus ids for {r.shape[1]} stimuli in the responses")
        if len(self.neuroid_ids) != r.shape[2]:
            raise BrainlikeError(f"{len(self.neuroid_ids)} neuroid ids for {r.shape[2]} neuroids")
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

    def bins(self) -> list[tuple[TimeBin | None, NeuralData]]:
        """(time bin, responses in it) per time bin; one (None, self) for data without time bins."""
        if not self.time_bins_ms:
            return [(None, self)]
        return [
            (b, NeuralData(self.stimulus_ids, self.responses[..., k], self.neuroid_ids))
            for k, b in enumerate(self.time_bins_ms)
        ]


def _time_bins(time_bins_ms) -> tuple[TimeBin, ...]:
    if time_bins_ms is None:
        return ()
    bins = np.asarray(time_bins_ms, dtype=np.float64)
    if bins.ndim != 2 or bins.shape[1] != 2 or not len(bins):
        raise BrainlikeError(f"time bins must be a (bins, 2) array of (start_ms, end_ms), got shape {bins.shape}")
    if not (np.isfinite(bins).all() and (bins[:, 1] > bins[:, 0]).all()):
        raise BrainlikeError("every time bin needs finite start_ms < end_ms")
    return tuple((float(a), float(b)) for a, b in bins)


def neural_data(
    stimulus_ids: Sequence[str], responses, neuroid_ids: Sequence[str] | None = None, time_bins_ms=None
) -> NeuralData:
    """NeuralData from arrays: responses (stimulus, neuroid) or (repetition, stimulus, neuroid), each with a
    last time-bin axis when `time_bins_ms` ((bins, 2) start and end in ms) is given."""
    responses = np.asarray(responses, dtype=np.float64)
    bins = _time_bins(time_bins_ms)
    if responses.ndim == (3 if bins else 2):
        responses = responses[None]
    ids = [str(i) for i in stimulus_ids]
    if neuroid_ids is None:
        neuroid_ids = range(responses.shape[2]) if responses.ndim > 2 else ()
    return NeuralData(ids, responses, [str(i) for i in neuroid_ids], bins)


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
    return neural_data(_strings(arrays["stimulus_id"]), arrays["responses"], neuroids, arrays.get("time_bin_ms"))


def _load_netcdf(path: Path) -> NeuralData:
    import xarray as xr

    try:
        array = xr.load_dataarray(path)
    except (ValueError, OSError) as error:
        raise BrainlikeError(f"cannot read {path} as one xarray DataArray: {error}") from None
    extra = set(array.dims) - {"stimulus", "neuroid", "repetition", "time_bin"}
    if {"stimulus", "neuroid"} - set(array.dims) or extra:
        raise BrainlikeError(
            f"{path} must have dims stimulus, neuroid and optionally repetition and time_bin; "
            f"it has {', '.join(map(str, array.dims))}"
        )
    order = [d for d in ("repetition", "stimulus", "neuroid", "time_bin") if d in array.dims]
    array = array.transpose(*order)
    bins = None
    if "time_bin" in array.dims:
        if not {"time_bin_start", "time_bin_end"} <= set(array.coords):
            raise BrainlikeError(f"{path} has a time_bin dim but no time_bin_start and time_bin_end coordinates")
        bins = np.stack([array["time_bin_start"].values, array["time_bin_end"].values], axis=1)
    ids = array["stimulus_id"].values if "stimulus_id" in array.coords else array["stimulus"].values
    neuroids = array["neuroid"].values if "neuroid" in array.coords else None
    return neural_data(_strings(ids), array.values, None if neuroids is None else _strings(neuroids), bins)


def match_stimuli(feature_ids: Sequence[str], neural_ids: Sequence[str]) -> np.ndarray:
    """Row of each neural stimulus in the features; every neural id must be among the feature ids."""
    where = {s: i for i, s in enumerate(feature_ids)}
    missing = [s for s in neural_ids if s not in where]
    if missing:
        raise BrainlikeError(
            f"{len(missing)} of {len(neural_ids)} neural stimulus ids are not in the features "
            f"(e.g. {missing[0]!r}; feature ids look like {feature_ids[0]!r}); the ids must match exactly"
        )
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
        yield (responses[order[: reps // 2]].mean(axis=0), responses[order[reps // 2 : 2 * (reps // 2)]].mean(axis=0))


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


def predictivity(
    features, responses, *, method: str = "ridge", folds: int = 5, seed: int = 0, ceiling: np.ndarray | None = None
) -> Predictivity:
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
    return float(
        np.mean([spearman_brown(np.array(compare_rdms(rdm(a, metric), rdm(b, metric), "spearman"))) for a, b in halves])
    )


# --------------------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class LayerScore:
    """The score of one layer (area, step) against the neural data, or against one of its time bins.

    `time_bin_ms` is the bin the model commits the step to; `neural_bin_ms` the recording's bin (None for
    data without time bins); `time_matched` whether the model's time mapping assigns this step of its area
    to that neural bin. `value` is the ceiling-normalised score where a ceiling exists, else the raw one.
    """

    area: str
    step: int
    layer: str
    time_bin_ms: TimeBin | None
    score: float
    ceiling: float | None
    normalized: float | None
    ci: tuple[float, float] | None = None
    neural_bin_ms: TimeBin | None = None
    time_matched: bool = False

    @property
    def value(self) -> float:
        return self.normalized if self.normalized is not None else self.score


@dataclass(frozen=True)
class _Target:
    """What one neural time bin is compared with: trial-averaged responses or their RDM, and the ceiling."""

    time_bin: TimeBin | None
    data: NeuralData
    rdm: np.ndarray | None
    ceiling: np.ndarray | float | None


def _targets(data: NeuralData, method: str, metric: str, seed: int) -> list[_Target]:
    from brainlike.analysis.rsa import rdm

    targets = []
    for time_bin, part in data.bins():
        repeated = part.repetitions > 1
        if method == "rsa":
            ceiling = rdm_ceiling(part.responses, metric=metric, seed=seed) if repeated else None
            targets.append(_Target(time_bin, part, rdm(part.mean, metric), ceiling))
        else:
            targets.append(
                _Target(time_bin, part, None, noise_ceiling(part.responses, seed=seed) if repeated else None)
            )
    return targets


def _mark_time_matched(scores: list[LayerScore]) -> list[LayerScore]:
    """Flag, per area and neural bin, the step the model's time mapping assigns to that bin."""
    matched = set()
    for area in dict.fromkeys(s.area for s in scores):
        steps = {s.step: s.time_bin_ms for s in scores if s.area == area}
        for neural_bin in dict.fromkeys(s.neural_bin_ms for s in scores):
            matched.add((area, nearest_step(steps, neural_bin), neural_bin))
    return [replace(s, time_matched=(s.area, s.step, s.neural_bin_ms) in matched) for s in scores]


def _rdm_score(model_rdm: np.ndarray, neural_rdm: np.ndarray, *, bootstrap: int, seed: int):
    """Spearman agreement of two RDMs, with its bootstrap 95% interval over stimuli when `bootstrap`."""
    from brainlike.analysis.rsa import bootstrap_compare, compare_rdms

    if not bootstrap:
        return compare_rdms(model_rdm, neural_rdm, "spearman"), None
    spread = bootstrap_compare(model_rdm, neural_rdm, "spearman", samples=bootstrap, seed=seed)
    return spread.value, (spread.ci_low, spread.ci_high)


def compare_features(
    features: str | Path,
    neural: str | Path | NeuralData,
    *,
    method: str = "ridge",
    folds: int = 5,
    seed: int = 0,
    bootstrap: int = 100,
    metric: str = "correlation",
    progress: bool = True,
) -> list[LayerScore]:
    """Score every (area, step) of a features file against neural data, reading one layer at a time;
    time-binned data gives one score per layer and neural time bin."""
    from tqdm import tqdm

    from brainlike.analysis.features import feature_layers, load_layer, stimulus_ids
    from brainlike.analysis.rsa import rdm

    if method not in METHODS:
        raise BrainlikeError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    data = neural if isinstance(neural, NeuralData) else load_neural(neural)
    rows = match_stimuli(stimulus_ids(features), data.stimulus_ids)
    if len(rows) < 3:
        raise BrainlikeError(f"only {len(rows)} stimuli in common; a comparison needs more")
    targets = _targets(data, method, metric, seed)
    scores = []
    for area, step in tqdm(feature_layers(features), unit="layer", disable=not progress, desc=method):
        layer = load_layer(features, area, step)
        x = layer.values[rows].reshape(len(rows), -1)
        start, end = layer.attrs["time_bin_ms"]
        named = dict(area=area, step=step, layer=layer.name, time_bin_ms=None if np.isnan(start) else (start, end))
        model_rdm = rdm(x, metric) if method == "rsa" else None
        for target in targets:
            if method == "rsa":
                score, ci = _rdm_score(model_rdm, target.rdm, bootstrap=bootstrap, seed=seed)
                normalized = score / target.ceiling if target.ceiling else None
                scores.append(
                    LayerScore(
                        **named,
                        score=score,
                        ceiling=target.ceiling,
                        normalized=normalized,
                        ci=ci,
                        neural_bin_ms=target.time_bin,
                    )
                )
            else:
                fit = predictivity(
                    x, target.data.responses, method=method, folds=folds, seed=seed, ceiling=target.ceiling
                )
                scores.append(
                    LayerScore(
                        **named,
                        score=fit.score,
                        ceiling=fit.ceiling_score,
                        normalized=fit.normalized,
                        neural_bin_ms=target.time_bin,
                    )
                )
    return _mark_time_matched(scores) if data.time_bins_ms else scores


def _annotated_heatmap(
    grid: np.ndarray,
    rows: list[str],
    columns: list[str],
    xlabel: str,
    title: str,
    outlined: Sequence[tuple[int, int]] = (),
):
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    figure, axis = plt.subplots(figsize=(1.6 + 0.9 * len(columns), 0.8 + 0.45 * len(rows)))
    image = axis.imshow(grid, cmap="viridis", aspect="auto")
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value):
            axis.text(j, i, f"{value:.2f}", ha="center", va="center", color="w", fontsize=8)
    for i, j in outlined:
        axis.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
    axis.set_xticks(range(len(columns)), columns, rotation=45 if len(columns) > 6 else 0)
    axis.set_yticks(range(len(rows)), rows)
    axis.set_xlabel(xlabel)
    axis.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axis)
    figure.tight_layout()
    return figure


def score_heatmap(scores: Sequence[LayerScore], title: str):
    """Figure: score per area (rows) x time step (columns); blank where an area has no such step."""
    areas = list(dict.fromkeys(s.area for s in scores))
    steps = max(s.step for s in scores) + 1
    grid = np.full((len(areas), steps), np.nan)
    for s in scores:
        grid[areas.index(s.area), s.step] = s.value
    return _annotated_heatmap(grid, areas, [f"t{t}" for t in range(steps)], "time step", title)


def _bin_label(time_bin: TimeBin) -> str:
    return f"{time_bin[0]:g}-{time_bin[1]:g}"


def time_bin_heatmap(scores: Sequence[LayerScore], title: str):
    """Figure: score per layer (rows) x neural time bin (columns); the time-matched cells outlined."""
    layers = list(dict.fromkeys(s.layer for s in scores))
    bins = list(dict.fromkeys(s.neural_bin_ms for s in scores))
    grid = np.full((len(layers), len(bins)), np.nan)
    outlined = []
    for s in scores:
        i, j = layers.index(s.layer), bins.index(s.neural_bin_ms)
        grid[i, j] = s.value
        if s.time_matched:
            outlined.append((i, j))
    return _annotated_heatmap(
        grid,
        layers,
        [_bin_label(b) for b in bins],
        "neural time bin (ms)",
        title + "; outlined: the model's time mapping",
        outlined,
    )


def _time_mapping_section(scores: Sequence[LayerScore]) -> tuple[list[str], list[list]]:
    """Per neural bin: the best layer, and each area's score at the step the time mapping assigns to it."""
    areas = list(dict.fromkeys(s.area for s in scores))
    rows = []
    for neural_bin in dict.fromkeys(s.neural_bin_ms for s in scores):
        in_bin = [s for s in scores if s.neural_bin_ms == neural_bin]
        best = max(in_bin, key=lambda s: s.value)
        mapped = {s.area: s for s in in_bin if s.time_matched}
        rows.append(
            [_bin_label(neural_bin), f"{best.layer} ({best.value:.3f})"]
            + [f"t{mapped[a].step}: {mapped[a].value:.3f}" if a in mapped else "-" for a in areas]
        )
    return ["neural bin ms", "best layer (score)", *areas], rows


def compare_report(
    features: str | Path,
    neural: str | Path,
    output: str | Path,
    *,
    method: str = "ridge",
    folds: int = 5,
    seed: int = 0,
    bootstrap: int = 100,
    progress: bool = True,
) -> Path:
    """`brainlike compare`: scores per area and step (and neural time bin, where the recordings have them)
    as report.json, report.md and heatmap PNGs."""
    from brainlike.report import Report, markdown_table

    scores = compare_features(
        features, neural, method=method, folds=folds, seed=seed, bootstrap=bootstrap, progress=progress
    )
    what = "RDM Spearman rho" if method == "rsa" else f"{method} predictivity (median Pearson r)"
    ceiled = scores[0].ceiling is not None
    binned = scores[0].neural_bin_ms is not None
    report = Report(Path(output), f"{Path(features).name} vs {Path(neural).name}: {what}")
    best = max(scores, key=lambda s: s.value)
    report.add_section(
        "Best layer",
        f"{best.layer} ({best.area}, step {best.step}"
        + (f", neural bin {_bin_label(best.neural_bin_ms)} ms" if binned else "")
        + f"): score {best.score:.3f}"
        + (f", ceiling-normalised {best.normalized:.3f}" if best.normalized is not None else ""),
    )
    if binned:
        header, rows = _time_mapping_section(scores)
        report.add_section(
            "Per neural time bin",
            "The best layer in each bin, and each area's score at the step "
            "the model's time mapping assigns to the bin (the step whose committed bin starts "
            "nearest):\n\n" + markdown_table(header, rows),
        )
    rows = [
        [s.layer, s.area, s.step, "-" if s.time_bin_ms is None else _bin_label(s.time_bin_ms)]
        + ([_bin_label(s.neural_bin_ms), "yes" if s.time_matched else ""] if binned else [])
        + [
            s.score,
            "-" if s.ceiling is None else s.ceiling,
            "-" if s.normalized is None else s.normalized,
            "-" if s.ci is None else f"{s.ci[0]:.3f}..{s.ci[1]:.3f}",
        ]
        for s in scores
    ]
    report.add_section(
        "Scores per area and time step",
        markdown_table(
            ["layer", "area", "step", "time bin ms"]
            + (["neural bin ms", "time-matched"] if binned else [])
            + ["score", "ceiling", "normalised", "95% CI"],
            rows,
        ),
    )
    if not ceiled:
        report.add_section(
            "Noise ceiling",
            "The neural data has one repetition per stimulus, so no ceiling "
            "was estimated and the heatmaps show raw scores.",
        )
    report.data.update(
        method=method,
        folds=folds,
        seed=seed,
        features=str(features),
        neural=str(neural),
        best_layer=best.layer,
        scores=scores,
    )
    title = what + (" / ceiling" if ceiled else "")
    if binned:
        report.data["best_neural_bin_ms"] = best.neural_bin_ms
        report.add_figure("scores", time_bin_heatmap(scores, title), caption=f"{what} per layer and neural time bin")
    else:
        report.add_figure("scores", score_heatmap(scores, title), caption=f"{what} per area and time step")
    return report.write()
