"""Measuring models: each measurement is `measure_*(model, ...) -> result` and `*_report(model_or_name,
output, ...) -> report folder`.

    features     extract_features, load_features, load_layer, ...: features of many images in HDF5
    neural       compare_features, compare_report: predictivity and RSA against neural recordings
    commitment   commit_layers, apply_commitment, commit_report: layers committed to regions from recordings
    rsa          rdm, compare_rdms, bootstrap_compare
    v1           measure_v1, v1_report, write_v1_report: the Marques et al. (2021) V1 panel
    robustness   measure_robustness, robustness_report: ImageNet-C corruptions, mCE
    adversarial  measure_adversarial, adversarial_report: white-box PGD (L-inf/L2/L1), EOT for noisy models
    accuracy     accuracy_report (measure_accuracy is brainlike.runtime's): top-1 / top-5 per readout step
    behaviour    measure_behaviour, behaviour_report, shape_bias, error_consistency: Geirhos et al. (2019)
    similarity   compare_models, linear_cka, rbf_cka, procrustes_distance, similarity_report: model vs model
    scorecard    measure_scorecard, scorecard_report: many models on many measurements, cached by fingerprint
    stats        model_stats, count_flops, receptive_fields

The names load on first use, so that importing one of these modules (`brainlike.summary` needs only
`stats`) does not also load h5py, scikit-learn, scipy and matplotlib for the others.
"""

from importlib import import_module

_HOMES = {
    "brainlike.analysis.features": (
        "extract_features",
        "feature_layers",
        "load_features",
        "load_layer",
        "merge_features",
        "stimulus_ids",
    ),
    "brainlike.analysis.neural": (
        "LayerScore",
        "NeuralData",
        "compare_features",
        "compare_report",
        "load_neural",
        "neural_data",
        "noise_ceiling",
        "predictivity",
    ),
    "brainlike.analysis.commitment": ("Commitment", "apply_commitment", "commit_layers"),
    "brainlike.analysis.commitment_report": ("commit_report",),
    "brainlike.analysis.rsa": ("bootstrap_compare", "compare_rdms", "rdm"),
    "brainlike.analysis.v1": ("V1Result", "measure_v1", "v1_report", "write_v1_report"),
    "brainlike.analysis.robustness": (
        "RobustnessResult",
        "measure_robustness",
        "robustness_report",
        "write_robustness_report",
    ),
    "brainlike.analysis.corruptions": ("CORRUPTIONS", "SEVERITIES", "corrupt"),
    "brainlike.analysis.accuracy": ("accuracy_report",),
    "brainlike.analysis.similarity": (
        "compare_models",
        "linear_cka",
        "procrustes_distance",
        "rbf_cka",
        "rsa_similarity",
        "similarity_report",
    ),
    "brainlike.analysis.scorecard": ("measure_scorecard", "scorecard_report"),
    "brainlike.analysis.adversarial": (
        "AdversarialResult",
        "adversarial_report",
        "measure_adversarial",
        "write_adversarial_report",
    ),
    "brainlike.analysis.behaviour": (
        "BehaviourResult",
        "behaviour_report",
        "error_consistency",
        "human_ceiling",
        "load_responses",
        "measure_behaviour",
        "shape_bias",
    ),
    "brainlike.runtime.evaluation": ("measure_accuracy",),
    "brainlike.analysis.stats": ("ModelStats", "count_flops", "model_stats", "receptive_fields"),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
