"""Recipes load and override; schedules and clipping follow the published rules."""

import math

import pytest
import torch

from brainlike.errors import BrainlikeError
from brainlike.training.losses import clip_adaptive, inverse_frequency_weights
from brainlike.training.recipes import (
    RECIPE_DIR,
    apply_overrides,
    available_recipes,
    load_recipe,
    parse_overrides,
    recipe_for_model,
    recipe_from_dict,
)
from brainlike.training.schedules import make_schedule


def test_every_recipe_file_loads_and_the_published_values_hold():
    assert {"cornet_z", "cornet_rt", "cornet_s", "blt_vs", "v1resnet", "vonenet", "digits"} <= set(available_recipes())
    for name in available_recipes():
        assert load_recipe(name).name == name
    s = recipe_for_model("cornet_s")
    assert (s.optimizer, s.lr, s.momentum, s.weight_decay, s.step_size, s.gamma, s.epochs) == (
        "sgd",
        0.1,
        0.9,
        1e-4,
        20,
        0.1,
        43,
    )
    assert s.train_transform == "random_resized_crop" and recipe_for_model("cornet_z").lr == 0.01
    blt = recipe_for_model("blt_vs_ecoset")
    assert (
        blt.optimizer,
        blt.label_smoothing,
        blt.class_weights,
        blt.readout_loss,
        blt.grad_clip,
        blt.clip_value,
        blt.precision,
        blt.stop_lr,
        blt.epochs,
    ) == ("adam", 0.1, True, "mean", "adaptive", 0.1, "mixed", 1e-6, None)
    v1 = recipe_for_model("v1resnet50_a")
    assert (v1.lr, v1.milestones, v1.input_size, v1.weight_decay) == (0.1, (60, 80), 64, 1e-5)


def test_repository_recipes_folder_is_the_package_one():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2] / "recipes"
    if repo.exists():
        assert repo.resolve() == RECIPE_DIR.resolve()


def test_any_field_can_be_overridden_and_bad_ones_are_refused():
    recipe = apply_overrides(load_recipe("cornet_z"), parse_overrides(["lr=0.5", "milestones=[3, 5]", "epochs=2"]))
    assert (recipe.lr, recipe.milestones, recipe.epochs) == (0.5, (3, 5), 2)
    with pytest.raises(BrainlikeError, match="unknown field.*learning_rate"):
        apply_overrides(recipe, {"learning_rate": 1})
    with pytest.raises(BrainlikeError, match="optimizer must be one of"):
        apply_overrides(recipe, {"optimizer": "lamb"})
    with pytest.raises(BrainlikeError, match="key=value"):
        parse_overrides(["lr"])
    with pytest.raises(BrainlikeError, match="no recipe"):
        load_recipe("nope")


def test_cornet_step_decay_is_per_iteration():
    schedule = make_schedule(load_recipe("cornet_s"))
    steps = 100
    # (global step + 1) / steps_per_epoch crosses 20 at the last batch of epoch 19.
    assert schedule.lr(19, 98, steps) == pytest.approx(0.1)
    assert schedule.lr(19, 99, steps) == pytest.approx(0.01)
    assert schedule.lr(40, 0, steps) == pytest.approx(0.001)


def test_blt_warmup_and_linear_fit_plateau():
    recipe = load_recipe("blt_vs")
    schedule = make_schedule(recipe)
    warm = [schedule.lr(e, 0, 10) for e in range(6)]
    assert warm == pytest.approx([1e-5, 2.575e-4, 5.05e-4, 7.525e-4, 1e-3, 1e-3])
    for epoch, loss in enumerate([5, 5, 5, 5, 5], start=5):  # flat: not yet 5 values until the 5th
        schedule.end_epoch(epoch, loss)
    assert schedule.lr(10, 0, 10) == 1e-3 and schedule.bad_epochs == 1
    schedule.end_epoch(10, 5.0)
    schedule.end_epoch(11, 5.0)
    assert schedule.lr(12, 0, 10) == pytest.approx(5e-4) and schedule.history == []
    falling = make_schedule(recipe)
    for epoch, loss in enumerate([5, 4, 3, 2, 1, 0.5, 0.25], start=5):
        falling.end_epoch(epoch, loss)
    assert falling.bad_epochs == 0 and falling.lr(20, 0, 10) == 1e-3
    schedule.current = 1.5e-6
    for epoch in range(12, 20):
        schedule.end_epoch(epoch, 5.0)
    assert schedule.finished(20, 10)


def test_adaptive_clipping_per_tensor():
    big, small = torch.nn.Parameter(torch.ones(4)), torch.nn.Parameter(torch.ones(4))
    big.grad, small.grad = torch.full((4,), 10.0), torch.full((4,), 0.01)
    clip_adaptive([big, small], 0.1)
    limit = 0.1 * (2.0 + 1e-3)
    assert big.grad.norm().item() == pytest.approx(20.0 * limit / (20.0 + 1e-3), rel=1e-6)
    assert torch.equal(small.grad, torch.full((4,), 0.01))


def test_inverse_frequency_class_weights():
    weights = inverse_frequency_weights([0, 0, 0, 1], 3)
    assert weights.tolist() == pytest.approx([0.25, 0.75, 0.0]) and math.isclose(weights.sum().item(), 1, rel_tol=1e-6)


def test_renamed_recipe_fields_are_still_read_with_a_warning():
    with pytest.warns(DeprecationWarning, match="image_size -> input_size"):
        old = recipe_from_dict({"image_size": 24, "normalization": "half"}, origin="old.yaml")
    assert (old.input_size, old.preprocessing) == (24, "half")
    with pytest.warns(DeprecationWarning):
        assert load_recipe("digits").replace(image_size=12).input_size == 12


def test_overrides_are_read_by_their_declared_types():
    recipe = apply_overrides(load_recipe("digits"), parse_overrides(["lr=1e-3", "weight_decay=5e-4", "epochs=3"]))
    assert (recipe.lr, recipe.weight_decay, recipe.epochs) == (1e-3, 5e-4, 3)
    assert apply_overrides(recipe, {"milestones": [30, 60]}).milestones == (30, 60)
    assert apply_overrides(recipe, {"input_size": None}).input_size is None
    for bad, message in (
        ("lr=abc", "lr must be a number, not 'abc'"),
        ("epochs=2.5", "epochs must be an integer, not 2.5"),
        ("class_weights=3", "class_weights must be true or false, not 3"),
        ("nesterov=yes please", "nesterov must be true or false"),
    ):
        with pytest.raises(BrainlikeError, match=message):
            apply_overrides(recipe, parse_overrides([bad]))
