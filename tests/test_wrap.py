import copy

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from brainlike import BrainlikeError, load_images, record, wrap
from brainlike.analysis.features import extract_features, load_layer


class TwoStep(nn.Module):
    """A tiny recurrent net: `cell` runs twice per forward pass, `unused` never."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.cell = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())
        self.unused = nn.Linear(2, 2)
        self.head = nn.Linear(4, 5)

    def forward(self, x):
        h = self.stem(x)
        for _ in range(2):
            h = self.cell(h) + h
        return self.head(h.mean(dim=(2, 3)))


def wrapped(**kw):
    torch.manual_seed(0)
    return wrap(TwoStep(), name="two_step", areas={"V1": "stem", "V4": "cell"}, input_size=32, **kw)


def test_a_module_called_twice_gives_two_steps_and_keeps_its_state_dict():
    plain = TwoStep()
    keys = list(plain.state_dict())
    model = wrap(plain, name="two_step", areas={"V1": "stem", "V4": "cell"}, input_size=32)
    assert list(model.state_dict()) == keys
    assert model.card.num_classes == 5 and model.card.area("V4").steps == 2 and model.card.area("V1").steps == 1
    assert model.card.area("V1").time_bins == ((50, 150),) and model.card.area("V4").time_bins == (None, None)
    x = torch.randn(3, 3, 32, 32)
    acts = record(model, x)
    assert len(acts["V4"]) == 2 and len(acts["V1"]) == 1
    h = model.stem(x)
    first = model.cell(h)
    torch.testing.assert_close(acts["V4"][0], first)
    torch.testing.assert_close(acts["V4"][1], model.cell(first + h))
    # a deep copy reads its own taps
    twin = copy.deepcopy(model)
    torch.testing.assert_close(record(twin, x)["V4"][1], acts["V4"][1])


def test_explicit_time_bins_must_match_the_steps():
    model = wrapped(time_bins={"V4": [(90, 140), (140, 190)]})
    assert model.card.area("V4").time_bins == ((90, 140), (140, 190))
    with pytest.raises(BrainlikeError, match="runs 2 steps per forward pass, but 1 time bins"):
        wrapped(time_bins={"V4": [(90, 140)]})


def test_extracted_features_equal_record(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(5):
        Image.fromarray(rng.integers(0, 256, (40, 36, 3), dtype=np.uint8)).save(folder / f"im{i}.png")
    model = wrapped()
    path = extract_features(model, folder, tmp_path / "f.h5", pool="none", batch_size=2, progress=False)
    expected = record(model, load_images(sorted(folder.iterdir()), "imagenet", 32))
    for step in (0, 1):
        np.testing.assert_allclose(load_layer(path, "V4", step).values, expected["V4"][step].numpy(), atol=1e-6)


def test_without_areas_every_leaf_that_runs_is_an_area():
    model = wrap(TwoStep(), name="leaves", areas=None, input_size=32)
    assert set(model.card.area_names) == {"stem", "cell.0", "cell.1", "head"}
    assert model.card.area("cell.0").steps == 2
    x = torch.randn(1, 3, 32, 32)
    assert len(record(model, x, areas=["cell.1"])["cell.1"]) == 2


def test_unknown_path_names_the_closest_paths():
    with pytest.raises(BrainlikeError, match=r"two_step: area V4: no submodule 'cel'; closest: cell"):
        wrap(TwoStep(), name="two_step", areas={"V4": "cel"}, input_size=32)


def test_an_area_that_never_runs_is_refused():
    with pytest.raises(BrainlikeError, match=r"area IT -> 'unused' never runs in forward"):
        wrap(TwoStep(), name="two_step", areas={"IT": "unused"}, input_size=32)


def test_a_dry_run_that_fails_is_one_clear_error():
    with pytest.raises(BrainlikeError, match=r"dry run of Sequential on a \(1, 3, 32, 32\) image failed"):
        wrap(nn.Sequential(TwoStep(), nn.Linear(3, 3)), name="bad", areas={"V1": "0.stem"}, input_size=32)
