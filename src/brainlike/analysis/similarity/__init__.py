"""Models side by side: how alike the representations of two models (or two layers) are.

    from brainlike.analysis.similarity import compare_models, linear_cka
    result = compare_models("cornet_z.h5", "cornet_s.h5", method="cka")   # every (area, step) pair
    result.values, result.ci_low, result.ci_high                          # (layers of A, layers of B)
    linear_cka(x, y)                                                      # two (stimulus, ...) arrays

Methods: linear CKA and its debiased form (Kornblith et al. 2019, with the unbiased HSIC estimator of
Song et al. 2012), RBF CKA (sigma = a fraction of the median distance between stimuli), RSA between the
RDMs of two feature sets (brainlike.analysis.rsa), and the orthogonal Procrustes distance. Every
comparison works from N x N Gram matrices (or RDMs) accumulated over blocks of features, so memory is
O(N^2) whatever the width of a layer; bootstrap intervals resample the stimuli.

    sources      FeatureSet (a features file or arrays), LayerKey, match_ids, is_features_file
    gram         centred Gram matrices by blocks (BLAS syrk), RBF kernels, the median-distance rule
    estimators   biased and unbiased HSIC, CKA, for all stimuli and every bootstrap resample at once
    procrustes   Procrustes distance from Gram matrices
    pairs        hsic, cka, linear_cka, rbf_cka, procrustes_distance, rsa_similarity of two arrays
    methods      Method (which comparison, which settings), MatrixStore (memory budget, scratch files)
    compare      compare_models, step_trajectories, Comparer
    result       SimilarityResult, StepTrajectory
    embedding    classical_mds, cluster_order
    report       similarity_report
"""

from brainlike.analysis.similarity.compare import Comparer, compare_models, compare_sets, step_trajectories
from brainlike.analysis.similarity.embedding import classical_mds, cluster_order
from brainlike.analysis.similarity.methods import KERNELS, METHODS, Method
from brainlike.analysis.similarity.pairs import (
    cka,
    hsic,
    linear_cka,
    procrustes_distance,
    rbf_cka,
    rsa_similarity,
)
from brainlike.analysis.similarity.report import similarity_report
from brainlike.analysis.similarity.result import SimilarityResult, StepTrajectory, trajectories
from brainlike.analysis.similarity.sources import FeatureSet, LayerKey, is_features_file, match_ids

__all__ = [
    "KERNELS",
    "METHODS",
    "Comparer",
    "FeatureSet",
    "LayerKey",
    "Method",
    "SimilarityResult",
    "StepTrajectory",
    "classical_mds",
    "cka",
    "cluster_order",
    "compare_models",
    "compare_sets",
    "hsic",
    "is_features_file",
    "linear_cka",
    "match_ids",
    "procrustes_distance",
    "rbf_cka",
    "rsa_similarity",
    "similarity_report",
    "step_trajectories",
    "trajectories",
]
