"""`similarity_report`: two models compared layer by layer, as a report folder with figures."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from brainlike.analysis.similarity.compare import Comparer, compare_sets, recurrent_layers
from brainlike.analysis.similarity.embedding import classical_mds, cluster_order
from brainlike.analysis.similarity.methods import Method
from brainlike.analysis.similarity.result import SimilarityResult, StepTrajectory, trajectories
from brainlike.analysis.similarity.sources import FeatureSet, LayerKey, match_ids
from brainlike.reports import Report, markdown_table
from brainlike.reports.figures import similarity as figures

SHOWN_STIMULI = 300  # RDM and MDS figures use at most this many stimuli (evenly spaced)
TABLE_PAIRS = 400  # the report lists every pair up to this many (report.json always has them all)


def _interval(result: SimilarityResult, i: int, j: int) -> str:
    if result.ci_low is None:
        return "-"
    return f"{result.ci_low[i, j]:.3f}..{result.ci_high[i, j]:.3f}"


def _pairs_table(result: SimilarityResult) -> str:
    rows = [
        [ka.name, kb.name, float(result.values[i, j]), _interval(result, i, j)]
        for i, ka in enumerate(result.a_layers)
        for j, kb in enumerate(result.b_layers)
    ]
    return markdown_table([f"{result.a} layer", f"{result.b} layer", "value", "CI"], rows)


def _matches_table(result: SimilarityResult) -> str:
    names_b = [k.name for k in result.b_layers]
    rows = []
    for ka, kb, value in result.best_matches():
        i, j = result.a_layers.index(ka), names_b.index(kb.name)
        rows.append([ka.name, kb.name, value, _interval(result, i, j)])
    nearest = "most similar" if result.higher_is_similar else "nearest"
    return markdown_table([f"{result.a} layer", f"{nearest} {result.b} layer", "value", "CI"], rows)


def _last_steps(features: FeatureSet) -> list[LayerKey]:
    """Each area's last step (each layer, for layers without steps)."""
    last: dict[str, LayerKey] = {}
    for key in features.layers:
        if key.area not in last or (key.step or 0) >= (last[key.area].step or 0):
            last[key.area] = key
    return list(last.values())


def _stimulus_figures(report: Report, sets: Sequence[FeatureSet], metric: str) -> None:
    """Ordered RDMs and MDS of each area's last step, on an evenly spaced subset of the stimuli."""
    from brainlike.analysis.rsa import rdm

    n = len(sets[0])
    shown = np.unique(np.linspace(0, n - 1, min(n, SHOWN_STIMULI)).round().astype(int))
    rdms = {}
    for features in sets:
        for key in _last_steps(features):
            rdms[f"{features.label} {key.name}"] = rdm(features.array(key, shown), metric)
    labels = [Path(sets[0].ids[i]).stem for i in shown]
    order = cluster_order(next(iter(rdms.values())))
    report.add_figure(
        "rdms",
        figures.ordered_rdms(rdms, order, labels),
        caption="RDMs (1 - Pearson r) of each area's last step; stimuli ordered by clustering the first panel's RDM"
        if metric == "correlation"
        else f"{metric} RDMs of each area's last step",
    )
    points = {title: classical_mds(matrix) for title, matrix in rdms.items()}
    report.add_figure("mds", figures.mds_panels(points, labels), caption="classical MDS of the stimuli per layer")


def _trajectory_figures(report: Report, found: dict[str, list[StepTrajectory]], method: Method) -> None:
    for label, curves in found.items():
        if not curves:
            continue
        figure = figures.step_trajectory(
            {t.area: (t.steps, t.to_first, t.to_last) for t in curves},
            ylabel=method.label,
            title=f"{label}: each step against the area's first and last step",
        )
        report.add_figure(f"trajectory_{label}", figure, caption=f"{label}: representation over time steps")


def _matrix_figure(report: Report, result: SimilarityResult) -> None:
    figure = figures.similarity_matrix(
        result.values,
        [k.name for k in result.a_layers],
        [k.name for k in result.b_layers],
        title=f"{result.method}: {result.a} (rows) vs {result.b} (columns), {result.stimuli} stimuli",
        ylabel=result.a,
        xlabel=result.b,
        colorbar=result.method,
        higher_is_similar=result.higher_is_similar,
        row_groups=[k.area for k in result.a_layers],
        column_groups=[k.area for k in result.b_layers],
    )
    report.add_figure("similarity", figure, caption=f"{result.method} of every layer pair")


def similarity_report(
    a,
    b,
    output: str | Path,
    *,
    method: str = "cka",
    kernel: str = "linear",
    debiased: bool = False,
    bandwidth: float = 1.0,
    metric: str = "correlation",
    comparison: str = "spearman",
    bootstrap: int = 100,
    seed: int = 0,
    confidence: float = 0.95,
    memory_gb: float = 2.0,
    labels: tuple[str, str] | None = None,
    progress: bool = True,
) -> Path:
    """`brainlike compare A.h5 B.h5`: every layer of A against every layer of B (see compare_models), the
    trajectory of each recurrent area over its steps, ordered RDMs and MDS of the stimuli; a report folder."""
    chosen = Method(method, kernel, debiased, bandwidth, metric, comparison)
    first, second = labels or (None, None)
    set_a = FeatureSet(a, label=first) if not isinstance(a, FeatureSet) else a
    set_b = FeatureSet(b, label=second) if not isinstance(b, FeatureSet) else b
    _, _, ids = match_ids(set_a, set_b)
    set_a, set_b = set_a.subset(ids), set_b.subset(ids)
    if set_a.label == set_b.label:
        set_a.label, set_b.label = f"A ({set_a.label})", f"B ({set_b.label})"
    with Comparer(chosen, len(ids), bootstrap=bootstrap, seed=seed, memory_gb=memory_gb) as comparer:
        result = compare_sets(comparer, set_a, set_b, confidence=confidence, progress=progress)
        found = {}
        for features in (set_a, set_b):
            layers = recurrent_layers(features)
            if layers:
                self_result = compare_sets(comparer, features, features, layers_a=layers, layers_b=layers)
                found[features.label] = trajectories(self_result)
    report = Report(Path(output), f"{set_a.label} vs {set_b.label}: {chosen.label}")
    what = (
        f"{len(ids)} stimuli matched by id; "
        + (
            f"{int(confidence * 100)}% bootstrap intervals from {bootstrap} resamples of the stimuli (seed {seed})"
            if bootstrap
            else "no bootstrap"
        )
        + (
            "; Procrustes is a distance: 0 means the same up to rotation and scale"
            if not chosen.higher_is_similar
            else ""
        )
    )
    report.add_section("Comparison", what)
    report.add_section(f"Best match per {set_a.label} layer", _matches_table(result))
    if result.values.size <= TABLE_PAIRS:
        report.add_section("Every pair of layers", _pairs_table(result))
    for label, curves in found.items():
        rows = [[t.area, t.steps[i], t.to_first[i], t.to_last[i]] for t in curves for i in range(len(t.steps))]
        report.add_section(
            f"{label}: steps against first and last", markdown_table(["area", "step", "to first", "to last"], rows)
        )
    _matrix_figure(report, result)
    _trajectory_figures(report, found, chosen)
    _stimulus_figures(report, (set_a, set_b), metric)
    report.data.update(
        a=set_a.label,
        b=set_b.label,
        settings=result.settings,
        label=chosen.label,
        stimuli=len(ids),
        bootstrap=bootstrap,
        confidence=confidence,
        a_layers=[k.name for k in result.a_layers],
        b_layers=[k.name for k in result.b_layers],
        values=result.values,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        best_matches=[[ka.name, kb.name, v] for ka, kb, v in result.best_matches()],
        trajectories=found,
    )
    return report.write()
