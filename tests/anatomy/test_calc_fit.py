"""CALC: systems, strides, cost terms and fits, against hand computations and the original's logs."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from brainlike.anatomy.adam import fit_adam
from brainlike.anatomy.checkpoints import load_checkpoint
from brainlike.anatomy.fit import fit_system
from brainlike.anatomy.macaque import macaque_system, ventral_system
from brainlike.anatomy.problem import DEFAULT_WEIGHTS, Problem, cost_terms, residuals, total_cost
from brainlike.anatomy.spec import ArchitectureSpec, spec_from_fit
from brainlike.anatomy.strides import StridePattern, stride_pattern
from brainlike.anatomy.system import System, reference_system
from brainlike.errors import BrainlikeError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "calc"
# initial values printed by the original for the integration system (spec section 10)
C0 = [0.176688, 0.205779, 0.285119, 0.117426, 0.266524, 0.274002, 0.259832, 0.256106, 0.227984, 0.288934]
S0 = [0.179173, 0.156804, 0.107104, 0.102022, 0.177816, 0.197862, 0.146148, 0.111827, 0.114335, 0.152185]
# the exact global minimum: two irreducible dead-end items of 8, plus the L2/3 e-vs-b conflict
MINIMUM = 0.25 + 3 * math.log(1.25) ** 2 * (0.36 / 9 + 0.16 / 6)


@pytest.fixture(scope="module")
def integration():
    system = System.load(FIXTURES / "integration_system.json")
    problem = Problem(system, stride_pattern(system))
    return system, problem


def test_integration_fixture_is_the_reference_system():
    reference = json.loads((FIXTURES / "calc_reference_systems.json").read_text())
    ours = System.load(FIXTURES / "integration_system.json")
    theirs = reference["systems"]["integration_test_small_V1_V2_V4_laminar"]
    assert [p.name for p in ours.populations] == [p["name"] for p in theirs["populations"]]
    assert ours.population("INPUT").n == theirs["input"]["n"]


def test_network_sizes_follow_the_strides(integration):
    _, problem = integration
    assert problem.image_res == 500
    assert problem.m.tolist() == [3, 212, 212, 108, 132, 132, 68, 68, 272, 512]
    assert problem.width.tolist() == [500] * 8 + [250, 125]


def test_initial_terms_match_the_original(integration):
    _, problem = integration
    t = problem.tensors(torch.float64)
    terms = cost_terms(
        t,
        torch.tensor(C0, dtype=torch.float64),
        torch.tensor(S0, dtype=torch.float64),
        torch.as_tensor(problem.initial_rf()),
    )
    assert problem.dead_end.shape[0] == 8
    for name, value in {"f": 0.659017, "b": 1.405911, "e": 3.803231, "dead_end": 0.672976}.items():
        assert terms[name].item() == pytest.approx(value, rel=2e-6), name
    assert terms["w_rf"].item() == pytest.approx(0, abs=1e-20)


def test_each_term_against_a_hand_computation():
    system = reference_system("test_conversion_system_2_V1_V2_V4")
    pattern = StridePattern({p.name: 1 for p in system.projections}, {p.name: 1 for p in system.populations}, 0.0)
    problem = Problem(system, pattern)
    c = np.array([0.5, 0.3, 0.2, 0.7])
    sigma = np.array([0.4, 0.6, 0.1, 0.9])
    w_rf = np.array([0.03, 0.1, 0.2, 95.0])
    t = problem.tensors(torch.float64)
    terms = {k: v.item() for k, v in cost_terms(t, *(torch.tensor(v) for v in (c, sigma, w_rf))).items()}

    m, width = problem.m, problem.width  # INPUT, V1, V2, V4
    pixel = 0.02 * problem.image_res / width
    pre, post = [0, 1, 1, 2], [1, 2, 3, 3]
    w2 = np.array([12 * ((w_rf[j] / pixel[i]) ** 2 - (w_rf[i] / pixel[i]) ** 2) for i, j in zip(pre, post)])
    inputs = w2 * c * sigma * m[pre]
    nu = m[pre] * width[pre] ** 2 * c * (1 - (1 - sigma) ** (np.maximum(w2, 1) * m[post])) * np.minimum(w2, 1)
    flne = np.array([nu[0] / nu[0], nu[1] / nu[1], nu[2] / (nu[2] + nu[3]), nu[3] / (nu[2] + nu[3])])
    assert terms["f"] == pytest.approx(np.mean(np.log(flne / [1, 1, 0.5, 0.5]) ** 2))
    assert terms["b"] == 0
    e_net = np.array([inputs[0], inputs[1], inputs[2] + inputs[3]])
    assert terms["e"] == pytest.approx(np.mean(np.log(e_net / 10) ** 2))
    assert terms["w_rf"] == pytest.approx(np.mean(np.log(w_rf / [0.02, 0.1, 0.2, 0.4]) ** 2))
    # INPUT and V1 have inter-area outputs (target 1 each); V2 too; V4 has no output (no item)
    assert terms["dead_end"] == pytest.approx(np.mean([(c[0] - 1) ** 2, (c[1] + c[2] - 1) ** 2, (c[3] - 1) ** 2]))
    assert terms["kernel"] == pytest.approx(np.sum(np.maximum(1 - np.sqrt(w2), 0)))
    assert terms["rf"] == pytest.approx(95.0 - 90.0)


def test_fit_reaches_the_exact_global_minimum(integration, tmp_path):
    system, _ = integration
    result = fit_system(system, checkpoint=tmp_path / "checkpoint.pt")
    assert abs(result.total - MINIMUM) < 1e-6
    assert result.terms["dead_end"] == pytest.approx(0.25, abs=1e-7)
    rows = {r["name"]: r for r in result.comparison()["populations"]}
    for layer in ("V1_23", "V2_23", "V4_23"):  # e = b settle at 1000^0.4 * 800^0.6
        assert rows[layer]["e"] == pytest.approx(1000**0.4 * 800**0.6, rel=1e-4)
    assert rows["V4_4"]["e"] == pytest.approx(500, rel=1e-4)
    saved = load_checkpoint(tmp_path / "checkpoint.pt")
    assert saved["c"].shape == (10,)
    spec = spec_from_fit(result)
    assert ArchitectureSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


@pytest.mark.slow
def test_adam_port_follows_the_original_trajectory(integration, tmp_path):
    _, problem = integration
    start = (C0, S0, problem.initial_rf())
    result = fit_adam(problem, start=start, steps=1000, checkpoint=tmp_path / "adam.pt", checkpoint_every=500)
    curve = dict(result.curve)
    assert curve[0] == pytest.approx(6.541135, abs=2e-5)
    assert curve[100] == pytest.approx(6.068, abs=1e-3)
    assert curve[1000] == pytest.approx(4.52, abs=5e-3)
    resumed = fit_adam(problem, start=start, steps=1000, checkpoint=tmp_path / "adam.pt", resume=True)
    assert resumed.total == pytest.approx(result.total, rel=1e-6)


def test_flne_sums_to_one_per_target():
    system = macaque_system()
    totals = {}
    for p in system.projections:
        if p.inter_area:
            totals[p.post] = totals.get(p.post, 0) + p.f
    assert totals and all(v == pytest.approx(1.0) for v in totals.values())
    assert {"V1_4Cbeta", "V4_4", "TEpd_4", "7A_4"} <= set(totals)


def test_strides_are_consistent_on_every_path():
    system = ventral_system()
    pattern = stride_pattern(system, max_cumulative_stride=32, best_of=3)
    for p in system.projections:
        assert pattern.cumulatives[p.pre] * pattern.strides[p.name] == pattern.cumulatives[p.post]
    path = system.longest_path()
    product = math.prod(pattern.strides[f"{a}->{b}"] for a, b in zip(path, path[1:]))
    assert product == pattern.cumulatives[path[-1]] <= 32


def test_explicit_strides_take_precedence(integration):
    system, _ = integration
    pattern = stride_pattern(system, best_of=3, seed=5)
    assert pattern.strides["V4_4->V4_23"] == pattern.strides["V4_23->V4_5"] == 2
    assert pattern.strides["INPUT->V1_4"] == 1


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"populations": [{"name": "V1", "n": 10}], "projections": []}, "without any input"),
        ({"populations": [{"name": "V1", "n": -1}], "projections": []}, "positive"),
        ({"populations": [{"name": "V1", "n": 10}], "projections": [{"pre": "INPUT", "post": "V2", "f": 1}]}, "V2"),
        (
            {"populations": [{"name": "V1", "n": 10}], "projections": [{"pre": "INPUT", "post": "V1", "f": 1, "b": 3}]},
            "exactly one",
        ),
        ({"projections": []}, "malformed"),
    ],
)
def test_bad_systems_are_refused(bad, message):
    with pytest.raises(BrainlikeError, match=message):
        System.from_dict(bad)


def test_residuals_square_to_the_total_cost_with_active_soft_limits():
    """The least-squares form is the cost itself, hinge terms included (here with sub-pixel kernels)."""
    system = ventral_system()
    problem = Problem(system, stride_pattern(system))
    t = problem.tensors(torch.float64)
    c, sigma, _ = (torch.as_tensor(v) for v in problem.initial_values(3))
    rank = {name: i for i, name in enumerate(system.topological_order())}
    # RFs of 1 deg that barely grow along every path: kernels narrower than a pixel
    w_rf = torch.tensor([1 + 1e-4 * rank[name] for name in problem.names], dtype=torch.float64)
    terms = cost_terms(t, c, sigma, w_rf)
    assert terms["kernel"] > 0
    r = residuals(t, c, sigma, w_rf, DEFAULT_WEIGHTS)
    assert float(r @ r) == pytest.approx(float(total_cost(terms, DEFAULT_WEIGHTS)), rel=1e-12)


@pytest.mark.slow
def test_fitted_receptive_fields_grow_past_every_input():
    system = ventral_system()
    result = fit_system(system)
    p = result.problem
    assert np.all(result.w_rf[p.post] >= result.w_rf[p.pre])
    assert result.terms["kernel"] == 0
    assert result.total < 0.5  # session 1's fixed-parent growth stalled at 5.52 on this system
