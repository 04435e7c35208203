"""`torchrun -m brainlike train` (2 gloo processes) follows the single-process run; `brainlike evaluate`."""

import json

import pytest
import torch

from brainlike.cli import main
from brainlike.data import open_dataset
from brainlike.runtime.checkpoints import load_checkpoint
from tests.torchrun import torchrun_brainlike

# Every test here starts torchrun process groups or trains: seconds each.
pytestmark = pytest.mark.slow

# Same global batch (32 = 2 x 16), same items per step; only the order of the float sums differs.
TOLERANCE = 1e-5
ARGS = [
    "cornet_z",
    "--data",
    "digits",
    "--recipe",
    "digits",
    "--set",
    "input_size=8",
    "--set",
    "optimizer=sgd",
    "--lr",
    "0.05",
    "--batch-size",
    "32",
    "--max-steps",
    "3",
    "--no-progress",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ddp")
    ddp = torchrun_brainlike("train", *ARGS, "-o", str(folder / "ddp"))
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert main(["train", *ARGS, "-o", str(folder / "single")]) == 0
    return folder, ddp.stdout


def test_two_gloo_processes_give_the_single_process_weights(runs):
    folder, stdout = runs
    assert stdout.count("3 steps (max_steps)") == 1  # rank 0 alone prints
    single, ddp = load_checkpoint(folder / "single"), load_checkpoint(folder / "ddp")
    assert single["global_step"] == ddp["global_step"] == 3
    assert single["model_config"] == ddp["model_config"] == {"num_classes": 10}
    for key, value in single["model"].items():
        assert torch.allclose(value, ddp["model"][key], rtol=0, atol=TOLERANCE), key
    assert not (folder / "ddp" / "epoch_001.pt").exists()


def test_evaluate_reports_accuracy_per_step_of_a_trained_checkpoint(runs, tmp_path, capsys):
    folder, _ = runs
    assert (
        main(
            [
                "evaluate",
                "cornet_z",
                "--data",
                "digits",
                "--pretrained",
                str(folder / "single"),
                "-o",
                str(tmp_path / "eval"),
            ]
        )
        == 0
    )
    report = json.loads((tmp_path / "eval" / "report.json").read_text())
    assert (tmp_path / "eval" / "accuracy_per_step.png").is_file() and report["images"] == 360
    assert "readout step" in capsys.readouterr().out
    # The same accuracy computed by hand: 8 px digits, mean/std 0.5, argmax of the logits.
    from brainlike import create_model
    from brainlike.weights import load_state_dict

    model = create_model("cornet_z", num_classes=10).eval()
    load_state_dict(model, load_checkpoint(folder / "single")["model"])
    val = open_dataset("digits", "val", digits_size=8)
    x = (val.images.float() / 255 - 0.5) / 0.5
    with torch.no_grad():
        top1 = (model(x).argmax(1) == torch.tensor(val.targets)).float().mean().item()
    assert report["top1"] == [pytest.approx(top1, abs=1e-6)]


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "cornet_z", "--data", str(tmp_path / "nothing")]) == 2
    assert main(["train", "cornet_z", "--data", "digits", "--set", "nonsense=1"]) == 2
    assert main(["evaluate", "cornet_z", "--data", "digits", "--pretrained", str(tmp_path / "none.pt")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("brainlike: error:") for line in errors)
    assert "no dataset at" in errors[0] and "nonsense" in errors[1] and "none.pt" in errors[2]
