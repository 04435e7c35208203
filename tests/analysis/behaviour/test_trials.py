"""The shipped trial data: its shape, and the published numbers computed from it alone."""

import hashlib
import json
from importlib import resources

import numpy as np
import pytest

from brainlike import BrainlikeError
from brainlike.analysis.behaviour import (
    accuracy,
    consistency_with_humans,
    error_consistency,
    human_ceiling,
    load_responses,
    pairwise_consistency,
    shape_bias,
)
from brainlike.data.geirhos import (
    CNNS,
    HUMANS,
    categories,
    categories16,
    parse_image,
    sample_stimuli,
    set_folder,
    stimulus_entries,
)
from tests.analysis.behaviour.helpers import STIMULI

IMAGES = {"cue-conflict": 1280, "edges": 160, "silhouettes": 160}


@pytest.mark.parametrize("experiment", list(IMAGES))
def test_every_observer_saw_every_image_once(experiment):
    trials = load_responses(experiment)
    assert list(trials.columns) == ["observer", "image", "shape", "texture", "response", "rt"]
    assert list(trials["observer"].unique()) == [*HUMANS, *CNNS]
    assert len(trials) == 13 * IMAGES[experiment]
    per_observer = trials.groupby("observer")["image"]
    assert (per_observer.nunique() == IMAGES[experiment]).all() and (per_observer.size() == IMAGES[experiment]).all()
    assert set(trials["image"]) == set(stimulus_entries(experiment))  # every trial's stimulus is in the manifest
    assert set(trials["response"]) <= {*categories(), "na"}
    answered = trials[trials["observer"].isin(HUMANS) & (trials["response"] != "na")]
    assert answered["rt"].between(0.2, 2.0).all() and trials[trials["observer"] == "vgg"]["rt"].isna().all()
    if experiment != "cue-conflict":
        assert (trials["texture"] == trials["shape"]).all()


def test_cue_conflict_images_name_shape_and_texture():
    trials = load_responses("cue-conflict")
    row = trials[trials["image"] == "bird/bird1-clock3.png"].iloc[0]
    assert (row["shape"], row["texture"]) == ("bird", "clock")
    assert trials[trials["observer"] == "subject-01"].eval("shape == texture").sum() == 80  # 5 per category
    assert parse_image("oven/oven10.png") == ("oven", "oven")
    with pytest.raises(BrainlikeError, match="not a stimulus name"):
        parse_image("bird/clock2.png")


def test_published_shape_bias_from_the_trials_alone():
    trials = load_responses("cue-conflict")
    humans = trials[trials["observer"].isin(HUMANS)]
    assert round(shape_bias(humans), 2) == 0.96
    by_observer = shape_bias(trials, by="observer")
    assert [round(by_observer[c], 2) for c in CNNS] == [0.43, 0.31, 0.17]  # AlexNet, GoogLeNet, VGG-16
    assert (by_observer[list(HUMANS)] > 0.9).all()
    per_category = shape_bias(humans, by="shape")
    assert list(per_category.index) == list(categories()) and (per_category > 0.85).all()


def test_shape_bias_counts_only_shape_and_texture_decisions():
    trials = load_responses("cue-conflict")
    vgg = trials[(trials["observer"] == "vgg") & (trials["shape"] != trials["texture"])]
    shape = (vgg["response"] == vgg["shape"]).sum()
    texture = (vgg["response"] == vgg["texture"]).sum()
    assert shape_bias(vgg) == pytest.approx(shape / (shape + texture))
    assert shape + texture < len(vgg)  # third-category decisions exist and are left out
    with pytest.raises(BrainlikeError, match="cue-conflict trials"):
        shape_bias(load_responses("edges"))


@pytest.mark.parametrize("experiment", list(IMAGES))
def test_human_error_consistency_is_positive_and_below_one(experiment):
    trials = load_responses(experiment)
    ceiling = human_ceiling(trials)
    assert 0.1 < ceiling < 0.7
    table = pairwise_consistency(trials[trials["observer"].isin(HUMANS)])
    pairs = table.to_numpy()[np.triu_indices(len(HUMANS), 1)]
    assert pairs.mean() == pytest.approx(ceiling) and (pairs < 1).all() and (pairs > -0.2).all()
    # The CNNs agree with humans less than humans agree with each other.
    for cnn in CNNS:
        assert consistency_with_humans(trials[trials["observer"] == cnn], trials).mean() < ceiling


def test_error_consistency_is_cohens_kappa_of_correctness():
    trials = load_responses("edges")
    a, b = trials[trials["observer"] == "subject-01"], trials[trials["observer"] == "alexnet"]
    merged = a.merge(b, on="image")
    right_a, right_b = merged["response_x"] == merged["shape_x"], merged["response_y"] == merged["shape_x"]
    observed = (right_a == right_b).mean()
    pa, pb = accuracy(a), accuracy(b)
    expected = pa * pb + (1 - pa) * (1 - pb)
    assert error_consistency(a, b) == pytest.approx((observed - expected) / (1 - expected))
    assert error_consistency(a, a) == 1.0
    assert error_consistency(a, b.iloc[:40]) == error_consistency(a[a["image"].isin(b.iloc[:40]["image"])], b.iloc[:40])
    with pytest.raises(BrainlikeError, match="several trials of one image"):
        error_consistency(trials, b)


def test_categories_and_manifest():
    table = categories16()
    assert len(table) == 16 and sum(len(v) for v in table.values()) == 207
    indices = [i for v in table.values() for i in v]
    assert len(set(indices)) == 207 and min(indices) >= 0 and max(indices) <= 999
    assert table["knife"] == (499,)
    manifest = json.loads((resources.files("brainlike") / "data" / "geirhos2019" / "stimuli_manifest.json").read_text())
    assert len(manifest["files"]) == 1600 and manifest["commit"].startswith("ccd0c01d")
    assert all(f["url"].endswith(f["commit"] + "/" + f["path"]) for f in [{**manifest["files"][0], **manifest}])


@pytest.mark.parametrize(
    "folder,experiment",
    [(sample_stimuli(), "cue-conflict"), (STIMULI, "cue-conflict"), (STIMULI, "edges"), (STIMULI, "silhouettes")],
)
def test_shipped_stimuli_are_the_published_files(folder, experiment):
    entries = stimulus_entries(experiment)
    root = set_folder(experiment, folder)
    files = sorted(root.rglob("*.png"))
    assert files
    for path in files:
        entry = entries[path.relative_to(root).as_posix()]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]


def test_unknown_experiment():
    with pytest.raises(BrainlikeError, match="unknown experiment 'textures'; known: cue-conflict, edges, silhouettes"):
        load_responses("textures")
