"""White-box PGD: budgets kept exactly, robust accuracy bounded by clean and falling with the budget, the
analytic L2 robustness of a linear model, readout objectives, and expectation over noise."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from brainlike import BrainlikeError
from brainlike.analysis.adversarial import (
    Budget,
    PixelReadouts,
    StochasticModelWarning,
    inside_budget,
    measure_adversarial,
    parse_budget,
    pgd,
    random_start,
    resolve_budgets,
)
from brainlike.analysis.adversarial.readouts import objective_loss
from brainlike.data.digits import digits
from brainlike.data.labeled import LabeledImages
from tests.analysis.test_adversarial_models import PRESET, SIZE, DigitNet, NoisyDigitNet, train

RUN = dict(input_size=SIZE, preprocessing=PRESET, workers=0)


@pytest.fixture(scope="module")
def net():
    return train(DigitNet())


@pytest.fixture(scope="module")
def val():
    return digits("val", size=SIZE)


def _exact_norm(x, adversarial, norm):
    delta = adversarial.double().numpy().reshape(len(x), -1) - x.double().numpy().reshape(len(x), -1)
    order = {"linf": np.inf, "l2": 2, "l1": 1}[norm]
    return np.linalg.norm(delta, ord=order, axis=1)


def test_budget_parsing_and_the_vonenet_preset():
    budget = parse_budget("linf:1/1020")
    assert budget.epsilon == 1 / 1020 and budget.label == "1/1020" and budget.key == "linf 1/1020"
    assert budget.steps == 64 and budget.step_size == pytest.approx(budget.epsilon / 4)
    preset = resolve_budgets("vonenet")
    assert [(b.norm, b.epsilon) for b in preset] == [
        ("linf", 1 / 1020),
        ("linf", 1 / 255),
        ("l2", 0.15),
        ("l2", 0.6),
        ("l1", 40.0),
        ("l1", 160.0),
    ]
    assert all(b.steps == 64 for b in preset)
    assert [b.steps for b in resolve_budgets(["l2:0.5", "vonenet"], steps=3)] == [3] * 7
    for bad in ("linf", "l3:1", "linf:x", "l2:-1"):
        with pytest.raises(BrainlikeError):
            resolve_budgets(bad)


@pytest.mark.parametrize("norm, epsilon", [("linf", 8 / 255), ("l2", 0.7), ("l1", 12.0)])
def test_every_adversarial_example_is_inside_its_budget_and_the_box(net, val, norm, epsilon):
    x = val.images[:64].float() / 255
    y = torch.tensor(val.targets[:64])
    model = PixelReadouts(net.requires_grad_(False), PRESET)
    budget = Budget(norm, epsilon, steps=8, relative_step=0.5)
    for start in (None, random_start(x, budget)):
        adversarial = pgd(objective_loss(model, y, "last"), x, budget, start=start)
        assert adversarial.dtype == x.dtype and adversarial.shape == x.shape
        assert float(adversarial.min()) >= 0 and float(adversarial.max()) <= 1
        assert (_exact_norm(x, adversarial, norm) <= epsilon).all()
        assert bool(inside_budget(x, adversarial, budget).all())
        assert (_exact_norm(x, adversarial, norm) > 0.5 * epsilon).mean() > 0.5  # the attack did move


def test_robust_accuracy_is_below_clean_falls_with_the_budget_and_equals_clean_at_zero(net, val):
    budgets = ["linf:0", "linf:2/255", "linf:8/255", "linf:32/255", "l2:0", "l2:0.25", "l2:1", "l2:3"]
    result = measure_adversarial(net, val, budgets=budgets, steps=10, limit=160, batch_size=80, **RUN)
    clean = result.clean[:, -1]
    assert result.images == 160 and result.clean_top1()[0] > 0.85
    for norm in ("linf", "l2"):
        ladder = [b for b in result.budgets if b.norm == norm]
        scores = [result.robust["last"][b.key][:, -1] for b in ladder]
        assert np.array_equal(scores[0], clean)  # zero budget: the clean images themselves
        previous = clean
        for current in scores:
            assert (current <= previous).all() and (current <= clean).all()
            previous = current
        accuracies = [s.mean() for s in scores]
        assert accuracies[-1] < 0.3 * accuracies[0]  # the strongest attack breaks most images
        assert accuracies[0] > accuracies[2] > accuracies[3]


class _Synthetic(LabeledImages):
    def __init__(self, images, labels):
        self.images, self.targets, self.classes = images, labels, ["0", "1"]

    def __getitem__(self, index):
        return self.images[index], self.targets[index]


def test_l2_robustness_of_a_linear_model_matches_the_margin_argument():
    """Two classes, logits W z + b on z = 2x - 1 ("half" preset): an image is L2-robust at budget eps iff
    its margin exceeds eps * ||2 (w_y - w_other)||_2 (pixels stay far from the box edges)."""
    generator = torch.Generator().manual_seed(0)
    linear = nn.Linear(3 * 4 * 4, 2)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(2, 48, generator=generator) * 0.5)
        linear.bias.zero_()
    model = nn.Sequential(nn.Flatten(), linear)
    images = torch.randint(90, 166, (400, 3, 4, 4), generator=generator, dtype=torch.uint8)
    with torch.no_grad():
        logits = model(images.float() / 255 * 2 - 1)
    labels = logits.argmax(1) ^ (torch.rand(400, generator=generator) < 0.1).long()  # some wrong ones
    weight_gap = 2 * (linear.weight[labels] - linear.weight[1 - labels]).norm(dim=1).detach()
    margin = (logits.gather(1, labels[:, None]) - logits.gather(1, 1 - labels[:, None])).squeeze(1)
    epsilon = round(float((margin / weight_gap)[margin > 0].median()), 3)  # about half the right ones robust
    assert epsilon < 0.3  # the pixels are 0.35 or more from the edges of [0, 1]
    clear = (margin - epsilon * weight_gap).abs() > 1e-3  # leave out the ties float rounding could flip
    data = _Synthetic(images[clear], labels[clear].tolist())
    result = measure_adversarial(model, data, budgets=[f"l2:{epsilon}"], steps=20, **{**RUN, "input_size": 4})
    expected = (margin > epsilon * weight_gap)[clear].numpy().astype(float)
    assert 0.2 < expected.mean() < 0.8
    assert np.array_equal(result.robust["last"][f"l2 {epsilon}"][:, 0], expected)


@pytest.mark.slow
def test_recurrent_models_are_attacked_on_the_last_and_the_mean_readout(val):
    net = train(DigitNet(readout_steps=2), steps=100)
    result = measure_adversarial(net, val, budgets=["linf:4/255"], steps=5, limit=64, batch_size=64, **RUN)
    assert result.objectives == ["last", "mean"] and result.readout_steps == 2
    last, mean = result.robust["last"]["linf 4/255"], result.robust["mean"]["linf 4/255"]
    assert (last[:, -1] <= result.clean[:, -1]).all()
    assert (mean.mean(axis=1) <= result.clean.mean(axis=1)).all()
    frame = result.frame()
    assert set(frame.readout_step) == {0, 1} and set(frame.objective) == {"clean", "last", "mean"}
    single = measure_adversarial(train(DigitNet()), val, budgets=["linf:4/255"], steps=2, limit=8, **RUN)
    assert single.objectives == ["last"]  # one readout: the mean is the last


def test_a_model_without_a_card_needs_its_size_and_preset(net, val):
    with pytest.raises(BrainlikeError, match="input_size and preprocessing"):
        measure_adversarial(net, val, budgets=["linf:1/255"], limit=4)


@pytest.fixture(scope="module")
def noisy():
    return train(NoisyDigitNet(), steps=200)


def test_a_stochastic_model_attacked_without_eot_warns(noisy, net, val):
    settings = dict(budgets=["linf:2/255"], steps=1, limit=8, **RUN)
    with pytest.warns(StochasticModelWarning, match="overstate"):
        result = measure_adversarial(noisy, val, eot_samples=1, **settings)
    assert result.stochastic and result.eot_samples == 1 and result.noise_evaluations == 10
    with warnings.catch_warnings():
        warnings.simplefilter("error", StochasticModelWarning)
        assert measure_adversarial(noisy, val, eot_samples=2, noise_evaluations=2, **settings).eot_samples == 2
        deterministic = measure_adversarial(net, val, **settings)
    assert not deterministic.stochastic and deterministic.eot_samples == 1 and deterministic.noise_evaluations == 1


def test_eot_lowers_robust_accuracy_of_a_noisy_model(noisy, val):
    """One full-size step (FGSM-like), where the gradient estimate decides everything: ten noise samples
    per step find worse images than one. With many small PGD steps the single-sample attack catches up
    (the signs of single gradients agree with the mean gradient's on about 80 % of the pixels here)."""
    settings = dict(budgets=["linf:4/255", "l2:0.3"], steps=1, relative_step=1.0, limit=120, batch_size=120)
    with pytest.warns(StochasticModelWarning):
        single = measure_adversarial(noisy, val, eot_samples=1, noise_evaluations=10, **settings, **RUN)
    averaged = measure_adversarial(noisy, val, eot_samples=10, noise_evaluations=10, **settings, **RUN)
    assert single.clean_top1() == averaged.clean_top1()  # the same images, the same evaluation noise
    total = lambda r: sum(r.top1(b.key)[0] for b in r.budgets)  # noqa: E731
    assert total(averaged) < total(single) - 0.02


def test_fixed_noise_makes_a_vone_model_deterministic(noisy, val):
    noisy.vone.fix_noise(3)
    try:
        result = measure_adversarial(noisy, val, budgets=["linf:1/255"], steps=1, limit=4, **RUN)
    finally:
        noisy.vone.unfix_noise()
    assert not result.stochastic


def test_the_attack_leaves_the_model_as_it_found_it(val):
    model = DigitNet().train()
    measure_adversarial(model, val, budgets=["linf:1/255"], steps=1, limit=4, **RUN)
    assert model.training and all(p.requires_grad for p in model.parameters())


def test_pgd_matches_a_hand_written_linf_step():
    """One L-infinity step from x is x + eps * sign(grad), clipped to the box."""
    x = torch.rand(3, 3, 5, 5)
    w = torch.randn(3, 5, 5)
    loss = lambda pixels: (pixels * w).flatten(1).sum(1)  # noqa: E731
    budget = Budget("linf", 0.05, steps=1, relative_step=1.0)
    expected = (x + 0.05 * w.sign()).clamp(0, 1)
    assert torch.allclose(pgd(loss, x, budget), expected, atol=1e-7)
    assert F.mse_loss(pgd(loss, x, Budget("linf", 0.0)), x) == 0
