"""CALC's optimisers: one interface, checkpoints tagged with the method that wrote them, resumes by method."""

from pathlib import Path

import pytest
import torch

from brainlike.anatomy.checkpoints import FORMAT, load_checkpoint
from brainlike.anatomy.fit import OPTIMISERS, fit_system
from brainlike.anatomy.problem import Problem, full_weights
from brainlike.anatomy.strides import stride_pattern
from brainlike.anatomy.system import System, reference_system
from brainlike.errors import BrainlikeError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "calc"
SYSTEM = "test_conversion_system_2_V1_V2_V4"
SHORT = {
    "lsq": {"max_evaluations": 5, "checkpoint_every": 1},
    "lbfgs": {"max_iterations": 5, "checkpoint_every": 1},
    "adam": {"steps": 5, "log_every": 1, "checkpoint_every": 1},
}


@pytest.fixture(scope="module")
def system():
    return reference_system(SYSTEM)


@pytest.mark.parametrize("method", sorted(OPTIMISERS))
def test_every_optimiser_takes_the_one_interface(system, method, tmp_path):
    problem = Problem(system, stride_pattern(system))
    seen = []
    result = OPTIMISERS[method](
        problem,
        problem.initial_values(),
        {"kernel": 1.0},
        checkpoint=tmp_path / "checkpoint.pt",
        resume=False,
        on_step=lambda step, cost: seen.append(step),
        **SHORT[method],
    )
    assert result.method == method and result.iterations > 0 and seen
    assert result.total == pytest.approx(sum(w * result.terms[k] for k, w in full_weights({"kernel": 1.0}).items()))
    saved = load_checkpoint(tmp_path / "checkpoint.pt")
    assert saved["format"] == FORMAT and saved["method"] == method


def test_least_squares_checkpoints_are_labelled_lsq_and_resume(tmp_path):
    system = System.load(FIXTURES / "integration_system.json")
    path = tmp_path / "checkpoint.pt"
    first = fit_system(system, checkpoint=path, checkpoint_every=1)
    assert load_checkpoint(path)["method"] == "lsq"
    resumed = fit_system(system, checkpoint=path, resume=True)
    assert resumed.total == pytest.approx(first.total, abs=1e-6)


@pytest.mark.parametrize("written, resumed", [("lbfgs", "lsq"), ("lsq", "lbfgs"), ("lbfgs", "adam"), ("adam", "lsq")])
def test_resuming_another_methods_checkpoint_is_refused(system, tmp_path, written, resumed):
    path = tmp_path / "checkpoint.pt"
    fit_system(system, method=written, checkpoint=path, **SHORT[written])
    with pytest.raises(BrainlikeError, match=f"method '{written}', not '{resumed}'"):
        fit_system(system, method=resumed, checkpoint=path, resume=True, **SHORT[resumed])


def test_resume_without_a_checkpoint_starts_afresh(system, tmp_path):
    fresh = fit_system(system, method="lbfgs", max_iterations=5)
    resumed = fit_system(system, method="lbfgs", checkpoint=tmp_path / "none.pt", resume=True, max_iterations=5)
    assert resumed.total == fresh.total


def test_untagged_files_are_not_checkpoints(system, tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save({"method": "lbfgs", "c": torch.zeros(4)}, path)
    with pytest.raises(BrainlikeError, match="not a CALC fit checkpoint"):
        fit_system(system, method="lbfgs", checkpoint=path, resume=True)


def test_unknown_methods_are_refused(system):
    with pytest.raises(BrainlikeError, match="method must be 'lsq', 'lbfgs' or 'adam', not 'sgd'"):
        fit_system(system, method="sgd")
