"""Decisions among the 16 categories: the published rule, name matching, user mappings, and synthetic
observers whose shape bias and error consistency are known in advance."""

import numpy as np
import pytest
import torch

from brainlike import BrainlikeError
from brainlike.analysis.behaviour import (
    BehaviourResult,
    category_map,
    consistency_with_humans,
    error_consistency,
    kappa,
    load_responses,
    shape_bias,
)
from brainlike.data.geirhos import categories, categories16, stimulus_entries
from brainlike.labels import class_names
from tests.analysis.behaviour.helpers import logits_favouring, manual_decisions


def _result(logits: torch.Tensor, images: list[str], name: str = "synthetic") -> BehaviourResult:
    cmap = category_map(1000, "imagenet")
    probabilities = cmap.probabilities(logits).numpy()[None]
    return BehaviourResult(
        name, "cue-conflict", tuple(images), cmap.categories, cmap.dropped, cmap.describe(), probabilities
    )


def test_category_probability_is_the_mean_softmax_over_its_classes():
    cmap = category_map(1000, "imagenet")
    assert cmap.categories == categories() and not cmap.dropped
    logits = torch.randn(5, 1000)
    expected = torch.stack([logits.softmax(1)[:, list(categories16()[c])].mean(1) for c in categories()], 1)
    assert torch.allclose(cmap.probabilities(logits), expected, atol=1e-7)


def test_mean_rule_is_not_the_sum_or_the_max():
    # One knife class (knife has 1) slightly above every dog class (dog has 109): the mean favours knife,
    # a sum over classes would favour dog.
    logits = torch.full((1, 1000), -20.0)
    logits[0, list(categories16()["dog"])] = 2.0
    logits[0, categories16()["knife"][0]] = 2.5
    cmap = category_map(1000, "imagenet")
    assert manual_decisions(logits, cmap) == ["knife"]
    assert cmap.categories[int(cmap.probabilities(logits).argmax())] == "knife"


def test_ecoset_categories_by_name_drop_keyboard_and_oven():
    cmap = category_map(565, "ecoset")
    names = class_names("ecoset")
    assert cmap.dropped == ("keyboard", "oven") and len(cmap.categories) == 14
    assert all(names[ix[0]] == c and len(ix) == 1 for c, ix in cmap.indices.items())
    assert "keyboard, oven" in cmap.describe()


def test_user_mapping_by_index_or_name_and_its_errors(tmp_path):
    cmap = category_map(10, None, {"cat": [3], "dog": [5, 6], "truck": 9})
    assert cmap.indices == {"cat": (3,), "dog": (5, 6), "truck": (9,)} and len(cmap.dropped) == 13
    logits = torch.zeros(1, 10)
    logits[0, 5] = 1.0
    assert cmap.probabilities(logits)[0].tolist() == pytest.approx(
        [logits.softmax(1)[0, 3].item(), logits.softmax(1)[0, 5:7].mean().item(), logits.softmax(1)[0, 9].item()]
    )
    by_name = category_map(565, "ecoset", {"dog": ["dog", "wolf"], "oven": ["stove"]})
    names = class_names("ecoset")
    assert [names[i] for i in by_name.indices["dog"]] == sorted(["dog", "wolf"], key=names.index)
    path = tmp_path / "mapping.json"
    path.write_text('{"bird": [0, 1]}')
    assert category_map(2, None, path).indices == {"bird": (0, 1)}
    with pytest.raises(BrainlikeError, match="not one of the 16 categories: cow"):
        category_map(10, None, {"cow": [1]})
    with pytest.raises(BrainlikeError, match="output index 12 of 'cat' is not in 0..9"):
        category_map(10, None, {"cat": [12]})
    with pytest.raises(BrainlikeError, match="no class named 'kitten'"):
        category_map(565, "ecoset", {"cat": ["kitten"]})
    with pytest.raises(BrainlikeError, match=r"10 outputs .* give one: \{category"):
        category_map(10, None)


def test_a_shape_observer_has_shape_bias_one_and_is_consistent_with_itself():
    images = list(stimulus_entries("cue-conflict"))
    result = _result(logits_favouring(images, "shape"), images)
    trials = result.frame()
    assert list(trials["response"]) == [i.split("/")[0] for i in images]
    assert shape_bias(trials) == 1.0
    assert error_consistency(trials, trials) == 1.0
    assert (shape_bias(trials, by="shape") == 1.0).all()


def test_a_texture_observer_has_shape_bias_zero():
    images = list(stimulus_entries("cue-conflict"))
    assert shape_bias(_result(logits_favouring(images, "texture"), images).frame()) == 0.0


def test_decisions_independent_of_the_images_have_no_error_consistency_with_humans():
    # Over 30 seeds the mean kappa with the 10 humans had a standard deviation of 0.005 and no single
    # kappa exceeded 0.025 in size; the tolerances are about 6 and 2.4 times that.
    images = list(stimulus_entries("cue-conflict"))
    logits = torch.from_numpy(np.random.default_rng(0).normal(size=(len(images), 1000))).float() * 10
    trials = _result(logits, images).frame()
    assert trials["response"].nunique() == 16
    kappas = consistency_with_humans(trials, load_responses("cue-conflict"))
    assert len(kappas) == 10
    assert abs(kappas.mean()) < 0.03 and kappas.abs().max() < 0.06


def test_kappa_edge_cases():
    right = np.array([True, True, False, False])
    assert kappa(right, right) == 1.0
    assert kappa(right, ~right) == -1.0  # always disagree at 50 % accuracy each
    assert kappa(np.ones(4, bool), np.ones(4, bool)) == 1.0  # expected agreement 1: they agree on every trial
    assert kappa(np.ones(4, bool), np.zeros(4, bool)) == 0.0
