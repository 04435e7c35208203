"""Robustness to common corruptions, ImageNet-C style: `measure_robustness(model, dataset)` and
`robustness_report(model_or_name, output, data=...)`."""

from brainlike.analysis.robustness.mce import corruption_errors, read_baseline, relative_corruption_errors
from brainlike.analysis.robustness.measure import RobustnessResult, measure_robustness
from brainlike.analysis.robustness.report import robustness_report, write_robustness_report

__all__ = [
    "RobustnessResult",
    "corruption_errors",
    "measure_robustness",
    "read_baseline",
    "relative_corruption_errors",
    "robustness_report",
    "write_robustness_report",
]
