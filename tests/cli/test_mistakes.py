"""Every mistake a user can make on the command line is one line on stderr and exit status 2."""

import pytest
import torch

from brainlike.cli import main

RANDOM = ["--pretrained", "false"]  # nothing here may try to download weights
MISTAKES = {
    "batch size 0": (["extract", "cornet_z", "imgs", "-o", "f.h5", "--batch-size", "0"], "must be at least 1"),
    "negative workers": (["extract", "cornet_z", "imgs", "-o", "f.h5", "--workers", "-1"], "must be at least 0"),
    "a precision extract cannot run": (["extract", "cornet_z", "imgs", "-o", "f.h5", "--precision", "fp16"], "fp16"),
    "evaluate batch 0": (["evaluate", "cornet_z", "--data", "digits", "--batch-size", "0", *RANDOM], "at least 1"),
    "negative top-k": (["classify", "cornet_z", "a.png", "--topk", "-1"], "--topk: must be at least 1"),
    "negative input size": (["info", "cornet_z", "--input-size", "-5"], "--input-size: must be at least 1"),
    "an unknown device": (["evaluate", "cornet_z", "--data", "digits", "--device", "gpu", *RANDOM], "unknown device"),
    "no model matches": (["models", "nothing*"], "no registered model matches 'nothing*'"),
    "no test split": (["evaluate", "cornet_z", "--data", "digits", "--split", "test", *RANDOM], "train and val"),
    "resume without a folder": (["train", "cornet_z", "--data", "digits", "--resume"], "folder given with -o"),
    "a wrongly typed override": (["train", "cornet_z", "--data", "digits", "--set", "lr=abc"], "lr must be a number"),
    "epochs 0": (["train", "cornet_z", "--data", "digits", "--epochs", "0"], "--epochs: must be at least 1"),
    "a negative limit": (
        ["robustness", "cornet_z", "--data", "digits", "--limit", "-3"],
        "--limit: must be at least 1",
    ),
    "no units": (["v1", "cornet_z", "--units", "0"], "--units: must be at least 1"),
    "a severity beyond 5": (["robustness", "cornet_z", "--data", "digits", "--severities", "7"], "invalid choice: 7"),
    "no PGD steps": (["adversarial", "cornet_z", "--data", "digits", "--steps", "0"], "--steps: must be at least 1"),
    "no scorecard V1 units": (["scorecard", "cornet_z", "-o", "c", "--v1-units", "0"], "--v1-units: must be at"),
    "an unknown subcommand": (["nosuch"], "invalid choice: 'nosuch'"),
    "an unknown model": (["info", "cornet_zz"], "unknown model 'cornet_zz'"),
    "info without areas": (["info", "torchvision:squeezenet1_0"], "has no brain-area commitment"),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_one_line_and_status_2(mistake, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv, expected = MISTAKES[mistake]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("brainlike") and expected in err[0], err


@pytest.mark.skipif(torch.cuda.is_available(), reason="asking for the GPU this machine has is no mistake")
def test_asking_for_a_gpu_where_there_is_none(capsys):
    assert main(["evaluate", "cornet_z", "--data", "digits", "--device", "cuda", *RANDOM]) == 2
    assert "no CUDA GPU is available here" in capsys.readouterr().err


def test_object_dtype_stimulus_ids_are_refused_with_the_line_that_saves_them(capsys, tmp_path):
    import numpy as np

    ids = np.array(["a.png", "b.png", "c.png"], dtype=object)  # what pandas' Series.values gives for text
    np.savez(tmp_path / "neural.npz", stimulus_id=ids, responses=np.zeros((3, 4)))
    assert main(["compare", str(tmp_path / "f.h5"), str(tmp_path / "neural.npz"), "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'stimulus_id' is an array of Python objects" in err[0], err
    assert "np.asarray(stimulus_id).astype(str)" in err[0] and "not unpickle" in err[0]
