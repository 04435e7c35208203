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

    data       NeuralData, load_neural, neural_data, match_stimuli
    ceilings   noise_ceiling, rdm_ceiling, spearman_brown, pearson_columns
    fitting    predictivity (ridge, PLS)
    compare    compare_features: every layer of a features file, LayerScore
    report     compare_report
"""

from brainlike.analysis.neural.ceilings import (
    noise_ceiling,
    pearson_columns,
    rdm_ceiling,
    spearman_brown,
    split_half_means,
)
from brainlike.analysis.neural.compare import METHODS, LayerScore, compare_features
from brainlike.analysis.neural.data import NeuralData, load_neural, match_stimuli, neural_data
from brainlike.analysis.neural.fitting import PLS_COMPONENTS, RIDGE_ALPHAS, Predictivity, predictivity
from brainlike.analysis.neural.report import compare_report

__all__ = [
    "METHODS",
    "PLS_COMPONENTS",
    "RIDGE_ALPHAS",
    "LayerScore",
    "NeuralData",
    "Predictivity",
    "compare_features",
    "compare_report",
    "load_neural",
    "match_stimuli",
    "neural_data",
    "noise_ceiling",
    "pearson_columns",
    "predictivity",
    "rdm_ceiling",
    "spearman_brown",
    "split_half_means",
]
