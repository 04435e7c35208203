"""Behaviour against human observers on the Geirhos et al. (2019) cue-conflict, edge and silhouette
experiments: shape bias, error consistency (Geirhos et al. 2020) and decisions per readout step.

    load_responses(experiment)          the published trials of 10 humans and 3 CNNs, one row each
    measure_behaviour(model, experiment) a model's trials (per readout step) in the same shape
    shape_bias, accuracy, error_consistency, pairwise_consistency, human_ceiling, consistency_with_humans
    decision_times, human_rt, spearman_bootstrap   per-step timing of recurrent models vs human RT
    behaviour_report(model_or_name, output, experiment=...)   the report folder
"""

from brainlike.analysis.behaviour.decisions import CategoryMap, category_map
from brainlike.analysis.behaviour.measure import BehaviourResult, measure_behaviour
from brainlike.analysis.behaviour.measures import (
    accuracy,
    consistency_with_humans,
    error_consistency,
    human_ceiling,
    kappa,
    pairwise_consistency,
    shape_bias,
)
from brainlike.analysis.behaviour.report import behaviour_report, write_behaviour_report
from brainlike.analysis.behaviour.steps import decision_times, human_rt, spearman_bootstrap
from brainlike.analysis.behaviour.summary import summarise
from brainlike.data.geirhos import load_responses

__all__ = [
    "BehaviourResult",
    "CategoryMap",
    "accuracy",
    "behaviour_report",
    "category_map",
    "consistency_with_humans",
    "decision_times",
    "error_consistency",
    "human_ceiling",
    "human_rt",
    "kappa",
    "load_responses",
    "measure_behaviour",
    "pairwise_consistency",
    "shape_bias",
    "spearman_bootstrap",
    "summarise",
    "write_behaviour_report",
]
