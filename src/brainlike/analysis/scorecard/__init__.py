"""One scorecard for any set of models on every brainlike measurement.

    from brainlike.analysis.scorecard import scorecard_report
    scorecard_report(["cornet_z", "cornet_s"], "scorecard", suite="v1,robustness,neural:it.npz", stimuli="images/")

Each (model, measurement) result is kept in the output folder with the fingerprint of the model (name,
configuration, a digest of its weights) and of the settings; a rerun reuses every result whose fingerprint
is unchanged without running the model, and measures again (saying why) where it changed.

    measurements   Score, Job, register_measurement, MEASUREMENTS, parse_suite: the registry
    builtin        accuracy, robustness, v1, neural:FILE
    behaviour      behaviour[:EXPERIMENT]: error consistency with humans, shape bias
    cache          the results folder
    run            measure_scorecard, model_specs
    table          Scorecard: the table, ranks and mean ranks
    report         scorecard_report, write_scorecard_report (report.md, report.html, figures)
"""

from brainlike.analysis.scorecard.measurements import (
    MEASUREMENTS,
    Job,
    Measurement,
    Score,
    parse_suite,
    register_measurement,
)
from brainlike.analysis.scorecard.report import scorecard_report, write_scorecard_report
from brainlike.analysis.scorecard.run import ModelSpec, measure_scorecard, model_specs
from brainlike.analysis.scorecard.table import Scorecard

__all__ = [
    "MEASUREMENTS",
    "Job",
    "Measurement",
    "ModelSpec",
    "Score",
    "Scorecard",
    "measure_scorecard",
    "model_specs",
    "parse_suite",
    "register_measurement",
    "scorecard_report",
    "write_scorecard_report",
]
