"""Cross-validated linear maps from features to responses: ridge (penalty per neuroid by efficient
leave-one-out inside each training fold) or PLS with 25 components as Brain-Score uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brainlike.analysis.neural.ceilings import noise_ceiling, pearson_columns
from brainlike.errors import BrainlikeError

RIDGE_ALPHAS = np.logspace(-3, 7, 11)
PLS_COMPONENTS = 25


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
