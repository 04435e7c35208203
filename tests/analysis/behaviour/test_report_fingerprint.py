"""A behaviour report records what produced it: the model, a digest of its weights and the settings."""

import json

import pytest

from brainlike.analysis.behaviour import behaviour_report
from brainlike.runtime.fingerprints import weights_digest
from tests.analysis.behaviour.helpers import STIMULI, Oracle


@pytest.mark.slow
def test_report_json_holds_the_fingerprint(tmp_path):
    model = Oracle("silhouettes", "shape")
    folder = behaviour_report(model, tmp_path / "r", experiment="silhouettes", stimuli=STIMULI, progress=False, seed=4)
    made_by = json.loads((folder / "report.json").read_text())["fingerprint"]
    assert made_by["model"] == "Oracle" and made_by["weights_sha256"] == weights_digest(model)
    assert made_by["experiments"] == ["silhouettes"] and made_by["seed"] == 4 and made_by["stimuli"] == str(STIMULI)
    assert made_by["limit"] is None and made_by["precision"] == "fp32" and "brainlike" in made_by
