"""The V1 report's status column says each thing once (its fingerprint and progress: test_report.py)."""

from brainlike.analysis.v1.report import _status
from brainlike.analysis.v1.scoring import PropertyScore


def test_the_status_column_says_each_thing_once():
    def score(status, note):
        return PropertyScore(property="p", dataset="d", benchmark="b", group="g", status=status, note=note)

    assert _status(score("not measured", "the images are not public")) == "not measured: the images are not public"
    assert _status(score("not measured", "not measured: no images")) == "not measured: no images"
    assert _status(score("scored", "")) == "scored"
