"""A training run resumes only with what started it: the model, its configuration, starting weights and seed."""

import pytest
import torch

from brainlike import create_model
from brainlike.cli import main
from brainlike.errors import BrainlikeError
from brainlike.runtime.checkpoints import load_checkpoint
from brainlike.runtime.fingerprints import weights_digest
from brainlike.training import train
from brainlike.weights import save_weights

SHORT = {"recipe": "digits", "progress": False, "max_steps": 2}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Two steps of CORnet-RT (two time steps) on the digits, stopped as an interrupted run would be."""
    folder = tmp_path_factory.mktemp("rt")
    train("cornet_rt", "digits", output=folder, times=2, **SHORT)
    return folder


def test_the_checkpoint_records_model_config_starting_weights_and_seed(run):
    saved = load_checkpoint(run / "latest.pt")["fingerprint"]
    torch.manual_seed(0)  # the digits recipe's seed: random starting weights follow it
    start = create_model("cornet_rt", pretrained=False, times=2, num_classes=10)
    assert saved == {
        "model": "cornet_rt",
        "model_config": {"times": 2, "num_classes": 10},
        "start_weights_sha256": weights_digest(start),
        "seed": 0,
    }


@pytest.mark.parametrize(
    "change, named",
    [
        ({"times": 3}, r"model_config: \{'num_classes': 10, 'times': 2\} -> \{'num_classes': 10, 'times': 3\}"),
        ({"overrides": {"seed": 1}}, "seed: 0 -> 1"),
    ],
)
def test_resuming_with_another_config_or_seed_is_refused_naming_it(run, change, named):
    before = load_checkpoint(run / "latest.pt")["global_step"]
    with pytest.raises(BrainlikeError, match=f"holds a run with other settings .*{named}.*--overwrite"):
        train("cornet_rt", "digits", output=run, resume=True, **{"times": 2, **change, **SHORT})
    assert load_checkpoint(run / "latest.pt")["global_step"] == before  # nothing was written


def test_resuming_from_other_starting_weights_is_refused(run, tmp_path):
    other = tmp_path / "other.safetensors"
    torch.manual_seed(7)
    save_weights(create_model("cornet_rt", pretrained=False, times=2, num_classes=10), other)
    with pytest.raises(BrainlikeError, match="start_weights_sha256: '[0-9a-f]{16}' -> '[0-9a-f]{16}'"):
        train("cornet_rt", "digits", output=run, resume=True, pretrained=str(other), times=2, **SHORT)


def test_resuming_the_same_run_continues_it(run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    result = train("cornet_rt", "digits", output=copy, resume=True, times=2, **{**SHORT, "max_steps": 3})
    assert result.steps == 3


@pytest.mark.slow
def test_the_cli_refuses_in_one_line_and_overwrite_starts_afresh(run, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    argv = ["train", "cornet_rt", "--data", "digits", "--recipe", "digits", "-o", str(copy), "--max-steps", "1"]
    assert main([*argv, "--resume", "--model-arg", "times=3", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "model_config" in err[0] and "'times': 3" in err[0], err
    assert main([*argv, "--overwrite", "--model-arg", "times=3", "--no-progress"]) == 0
    state = load_checkpoint(copy / "latest.pt")
    assert state["fingerprint"]["model_config"]["times"] == 3 and state["global_step"] == 1
