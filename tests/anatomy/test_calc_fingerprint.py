"""A CALC fit resumes, and a fit folder is rewritten, only by the same fit: the system, strides, weights, seed."""

import json

import pytest

from brainlike.anatomy.checkpoints import load_checkpoint, saved_fingerprint
from brainlike.anatomy.fit import fit_system, fit_to_folder
from brainlike.anatomy.system import reference_system
from brainlike.cli import main
from brainlike.errors import BrainlikeError

SYSTEM = "test_conversion_system_2_V1_V2_V4"
SHORT = {"method": "lbfgs", "max_iterations": 3, "checkpoint_every": 1}


@pytest.fixture(scope="module")
def system():
    return reference_system(SYSTEM)


def test_checkpoints_carry_the_fingerprint_of_their_fit(system, tmp_path):
    fit_system(system, checkpoint=tmp_path / "c.pt", seed=3, **SHORT)
    saved = saved_fingerprint(load_checkpoint(tmp_path / "c.pt"))
    assert saved["seed"] == 3 and saved["weights"] == {} and saved["dead_end_missing"] == "constant"
    assert len(saved["system_sha256"]) == len(saved["start_sha256"]) == 16 and saved["strides"]


@pytest.mark.parametrize(
    "change, named",
    [
        ({"seed": 1}, "seed: 0 -> 1"),
        ({"weights": {"kernel": 2.0}}, r"weights: \{\} -> \{'kernel': 2.0\}"),
    ],
)
def test_resuming_another_fit_is_refused_naming_the_difference(system, tmp_path, change, named):
    path = tmp_path / "c.pt"
    fit_system(system, checkpoint=path, **SHORT)
    with pytest.raises(BrainlikeError, match=f"c.pt holds another CALC fit \\(.*{named}.*\\); resume it with the same"):
        fit_system(system, checkpoint=path, resume=True, **{**SHORT, **change})


def test_resuming_with_another_system_is_refused(system, tmp_path):
    path = tmp_path / "c.pt"
    fit_system(system, checkpoint=path, **SHORT)
    other = reference_system(SYSTEM)
    other.miniaturize(2.0)
    with pytest.raises(BrainlikeError, match="system_sha256: '[0-9a-f]{16}' -> '[0-9a-f]{16}'"):
        fit_system(other, checkpoint=path, resume=True, **SHORT)


def test_resuming_the_same_fit_continues(system, tmp_path):
    path = tmp_path / "c.pt"
    first = fit_system(system, checkpoint=path, **SHORT)
    again = fit_system(system, checkpoint=path, resume=True, **SHORT)
    assert again.total <= first.total + 1e-12


def test_a_folder_of_another_fit_needs_resume_or_overwrite(tmp_path, capsys):
    out = tmp_path / "fit"
    argv = ["calc", "fit", SYSTEM, "-o", str(out), "--method", "lbfgs"]
    assert main([*argv, "--seed", "0"]) == 0
    first = json.loads((out / "fit.json").read_text())
    assert first["fingerprint"]["seed"] == 0 and first["fingerprint"]["method"] == "lbfgs"
    assert main([*argv, "--seed", "0"]) == 0  # the same fit again is redone
    redone = (out / "fit.json").read_text()
    capsys.readouterr()
    assert main([*argv, "--seed", "5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds another CALC fit" in err[0] and "seed: 0 -> 5" in err[0], err
    assert "--overwrite" in err[0]
    assert (out / "fit.json").read_text() == redone  # the folder is kept as it was
    assert main([*argv, "--seed", "5", "--overwrite"]) == 0
    assert json.loads((out / "fit.json").read_text())["fingerprint"]["seed"] == 5


def test_another_method_into_a_fit_folder_is_refused(tmp_path):
    out = tmp_path / "fit"
    fit_to_folder(SYSTEM, out, method="lbfgs", max_iterations=3)
    with pytest.raises(BrainlikeError, match="method: 'lbfgs' -> 'adam'"):
        fit_to_folder(SYSTEM, out, method="adam", steps=3)
