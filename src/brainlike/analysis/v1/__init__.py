"""In-silico V1 electrophysiology: the Marques et al. (2021) grating panel, scored against primate data.

from brainlike import create_model
from brainlike.analysis.v1 import measure_v1
result = measure_v1(create_model("cornet_s", pretrained=True), area="V1")
result.frame()          # one row per property: score, ceiling, model and data medians
"""

from brainlike.analysis.v1.measure import V1Result, measure_v1
from brainlike.analysis.v1.report import v1_report, write_v1_report

__all__ = ["V1Result", "measure_v1", "v1_report", "write_v1_report"]
