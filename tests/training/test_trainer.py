"""The trainer: learns the digits, resumes bitwise, stops on NaN, reports per-step accuracy."""

import csv

import pytest
import torch

from brainlike.data import open_dataset
from brainlike.errors import BrainlikeError
from brainlike.runtime.checkpoints import load_checkpoint
from brainlike.training import load_recipe, train
from brainlike.training.trainer import Interrupted
from tests.training.tiny import Subset, TinyRecurrent

CHANCE = 0.1
# One epoch of the tiny two-step model on the 1,437 training digits at 16 px: measured 0.91 top-1.
DIGITS_THRESHOLD = 0.6


@pytest.fixture(scope="module")
def digits16():
    return open_dataset("digits", "train", digits_size=16), open_dataset("digits", "val", digits_size=16)


@pytest.fixture(scope="module")
def digits_run(digits16, tmp_path_factory):
    torch.manual_seed(0)
    recipe = load_recipe("digits").replace(input_size=16, lr=3e-3, batch_size=32)
    output = tmp_path_factory.mktemp("digits_run")
    return train(TinyRecurrent(), digits16, recipe=recipe, output=output, progress=False)


def test_one_epoch_on_digits_is_well_above_chance(digits_run):
    val = digits_run.val
    assert digits_run.epochs == 1 and digits_run.steps == 1437 // 32 and val.images == 360
    assert len(val.top1) == 2  # one accuracy per readout step
    assert val.top1[-1] > DIGITS_THRESHOLD > 4 * CHANCE
    assert all(a5 >= a1 for a1, a5 in zip(val.top1, val.top5))


def test_run_folder_holds_log_tensorboard_weights_and_report(digits_run):
    folder = digits_run.output
    rows = list(csv.DictReader(open(folder / "log.csv")))
    assert [r["kind"] for r in rows].count("val") == 1 and "top1_t1" in rows[0]
    assert float(rows[-1]["top1_t1"]) == pytest.approx(digits_run.val.top1[1], abs=1e-5)
    assert any((folder / "tensorboard").iterdir())
    assert (folder / "model.safetensors").is_file() and (folder / "report" / "accuracy_per_step.png").is_file()
    state = load_checkpoint(folder)
    assert (state["epoch"], state["batch"], state["global_step"]) == (1, 0, digits_run.steps)


def _resumable_run(data, output, *, kill_at=None, resume=False):
    recipe = load_recipe("digits").replace(
        input_size=12,
        batch_size=16,
        epochs=2,
        checkpoint_minutes=0,
        train_transform="random_resized_crop",
        optimizer="sgd",
        lr=0.05,
        schedule="step",
        step_size=1,
        gamma=0.5,
    )

    def kill(trainer):
        if trainer.global_step == kill_at:
            raise Interrupted

    torch.manual_seed(123)  # the resumed run starts from other weights: the checkpoint must restore them
    model = TinyRecurrent()
    return train(
        model, data, recipe=recipe, output=output, progress=False, resume=resume, on_step=kill if kill_at else None
    )


@pytest.mark.slow
def test_kill_and_resume_gives_bitwise_identical_weights(digits16, tmp_path):
    train_set, val_set = Subset(digits16[0], 96), Subset(digits16[1], 32)
    whole = _resumable_run((train_set, val_set), tmp_path / "whole")
    with pytest.raises(Interrupted):
        _resumable_run((train_set, val_set), tmp_path / "cut", kill_at=9)  # epoch 1, batch 3 of 6
    assert load_checkpoint(tmp_path / "cut")["global_step"] == 8
    resumed = _resumable_run((train_set, val_set), tmp_path / "cut", resume=True)
    assert resumed.steps == whole.steps == 12
    a = load_checkpoint(tmp_path / "whole")
    b = load_checkpoint(tmp_path / "cut")
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    for key, value in a["optimizer"]["state"].items():
        assert torch.equal(value["momentum_buffer"], b["optimizer"]["state"][key]["momentum_buffer"])
    assert resumed.val == whole.val

    def losses(folder):
        return [(r["kind"], r["step"], r["loss"], r["top1_t0"]) for r in csv.DictReader(open(folder / "log.csv"))]

    assert losses(tmp_path / "cut") == losses(tmp_path / "whole")


class Exploding(TinyRecurrent):
    """Returns NaN logits from the 4th training forward on."""

    calls = 0

    def readouts(self, x):
        outputs = super().readouts(x)
        if self.training:
            self.calls += 1
            if self.calls >= 4:
                outputs = [o * float("nan") for o in outputs]
        return outputs


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(digits16, tmp_path):
    recipe = load_recipe("digits").replace(input_size=12, batch_size=16, checkpoint_minutes=0)
    with pytest.raises(BrainlikeError, match=r"loss became nan at epoch 0, batch 3 \(training step 4\).*latest.pt"):
        train(Exploding(), (Subset(digits16[0], 96), None), recipe=recipe, output=tmp_path, progress=False)
    state = load_checkpoint(tmp_path)
    assert state["global_step"] == 3
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_bf16_mixed_precision_on_cpu_trains(digits16, tmp_path):
    recipe = load_recipe("digits").replace(input_size=12, batch_size=16, precision="mixed", readout_loss="last")
    result = train(
        TinyRecurrent(),
        (Subset(digits16[0], 64), Subset(digits16[1], 32)),
        recipe=recipe,
        output=tmp_path,
        progress=False,
    )
    assert result.steps == 4 and result.val.images == 32 and 0 <= result.val.top1[-1] <= 1


def test_corrupt_image_stops_training_unless_skipped(tmp_path):
    from tests.data import fixtures

    root = fixtures.image_folder(tmp_path / "imgs", per_class=4)
    (root / "train" / "dog" / "broken.png").write_bytes(b"\x89PNG garbage")
    recipe = load_recipe("digits").replace(
        input_size=8, batch_size=3, train_transform="random_resized_crop", val_transform="squash"
    )
    with pytest.raises(BrainlikeError, match="broken.png"):
        train(TinyRecurrent(num_classes=2), root, recipe=recipe, output=tmp_path / "a", progress=False)
    with pytest.warns(UserWarning, match="broken.png"):
        result = train(
            TinyRecurrent(num_classes=2), root, recipe=recipe, output=tmp_path / "b", progress=False, skip_bad=True
        )
    assert result.steps == 3 and result.val.images == 8


@pytest.mark.slow
def test_a_folder_holding_another_run_is_refused_unless_resumed_or_overwritten(digits16, tmp_path):
    recipe = load_recipe("digits").replace(input_size=16, batch_size=64, epochs=1)
    train(TinyRecurrent(), digits16, recipe=recipe, output=tmp_path, progress=False)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(BrainlikeError, match="holds another run .*--resume.*--overwrite"):
        train(TinyRecurrent(), digits16, recipe=recipe, output=tmp_path, progress=False)
    result = train(TinyRecurrent(), digits16, recipe=recipe, output=tmp_path, overwrite=True, progress=False)
    assert result.epochs == 1 and (tmp_path / "notes.txt").read_text() == "mine"
    with pytest.raises(BrainlikeError, match="--resume continues the run in the folder given with -o"):
        train("cornet_z", "digits", resume=True)


@pytest.mark.slow
def test_a_run_folder_and_its_model_file_evaluate_the_same(tmp_path):
    import json

    from brainlike.analysis.accuracy import accuracy_report

    recipe = load_recipe("digits").replace(input_size=16, batch_size=64, epochs=1, val_transform="squash")
    train("cornet_z", "digits", recipe=recipe, output=tmp_path / "run", progress=False)
    reports = [
        json.loads(
            (
                accuracy_report("cornet_z", tmp_path / f"r{i}", data="digits", pretrained=weights, progress=False)
                / "report.json"
            ).read_text()
        )
        for i, weights in enumerate([tmp_path / "run", tmp_path / "run" / "model.safetensors"])
    ]
    assert reports[0]["top1"] == reports[1]["top1"] and reports[0]["transform"] == reports[1]["transform"] == "squash"
    assert reports[0]["input_size"] == reports[1]["input_size"] == 16
