"""commit_layers finds the layer that generated the responses; the commitment saves, loads and is then what
record(), the card's region map and the time mapping use."""

import argparse
import json

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from brainlike import BrainlikeError, load_images, record, wrap
from brainlike.analysis import Commitment, apply_commitment, commit_layers, commit_report
from brainlike.analysis.neural import neural_data
from brainlike.cli.commit import add_commit

STIMULI = 60


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Dropout(0.1),
        )
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))


def small(size=16):
    torch.manual_seed(0)
    return wrap(Small(), name="small", areas={"V1": "features.1"}, input_size=size)


def planted(model, x, layer, *, neuroids, seed, pool):
    """Four noisy repetitions of a random linear map of `layer`'s features (pooled over space or not)."""
    features = record(model, x, layers=[layer], pool=pool)[layer][0].reshape(len(x), -1).numpy()
    rng = np.random.default_rng(seed)
    clean = features @ rng.standard_normal((features.shape[1], neuroids))
    return clean[None] + 0.6 * clean.std(axis=0) * rng.standard_normal((4, len(x), neuroids))


@pytest.mark.slow
def test_the_planted_layer_is_committed():
    model = small()
    x = torch.randn(STIMULI, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    ids = [f"s{i}" for i in range(STIMULI)]
    data = neural_data(ids, planted(model, x, "features.4", neuroids=12, seed=2, pool="none"))
    candidates = ["features.2", "features.4", "features.5", "features.6"]
    result = commit_layers(
        model, data, stimuli=x, regions=["V4"], candidates=candidates, max_features=200, progress=False
    )
    assert result.regions == {"V4": ("features.4", 0)}
    table = result.frame().set_index("layer")
    assert list(table.index) == candidates and table["chosen"].tolist() == [False, True, False, False]
    assert table.loc["features.4", "normalized"] > table.drop("features.4")["normalized"].max() + 0.1
    assert 0 < table.loc["features.4", "ceiling"] <= 1


def test_default_candidates_are_the_spatial_leaves_with_every_call():
    from brainlike.analysis.commitment import candidate_layers

    assert candidate_layers(small(), 16) == {f"features.{i}": 1 for i in range(8)}  # not the dropout, not fc
    assert candidate_layers(TwoStep(), 16) == {"stem": 1, "cell": 2}


@pytest.mark.slow
def test_the_planted_layers_are_committed_for_each_region_among_all_leaves():
    model = small()
    x = torch.randn(STIMULI, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    ids = [f"s{i}" for i in range(STIMULI)]
    data = {
        "V4": neural_data(ids, planted(model, x, "features.4", neuroids=12, seed=2, pool="none")),
        "IT": neural_data(ids, planted(model, x, "features.6", neuroids=12, seed=3, pool="none")),
    }
    result = commit_layers(model, data, stimuli=x, max_features=300, progress=False)
    assert result.regions == {"V4": ("features.4", 0), "IT": ("features.6", 0)}
    table = result.frame()
    assert set(table["layer"]) == {f"features.{i}" for i in range(8)} and len(table) == 16
    assert table["chosen"].sum() == 2


def test_a_commitment_round_trips_through_json_and_commits_the_card(tmp_path):
    model = small()
    keys = list(model.state_dict())
    result = Commitment("small", {"IT": ("features.6", 0), "V1": ("features.2", 0)}, (), {"method": "ridge"})
    path = result.save(tmp_path / "c.json")
    assert Commitment.load(path) == result
    apply_commitment(model, path)
    assert list(model.state_dict()) == keys
    assert model.card.region_map() == {"IT": "IT", "V1": "V1"}
    assert model.card.area_names == ("IT", "V1") and model.card.area("IT").time_bins == ((100, 200),)
    x = torch.randn(2, 3, 16, 16)
    acts = record(model, x)
    layers = record(model, x, layers=["features.6", "features.2"])
    torch.testing.assert_close(acts["IT"][0], layers["features.6"][0])
    torch.testing.assert_close(acts["V1"][0], layers["features.2"][0])
    # committing again moves the region; the card keeps one area per region
    apply_commitment(model, {"IT": "features.4"})
    torch.testing.assert_close(
        record(model, x, areas=["IT"])["IT"][0], record(model, x, layers=["features.4"])["features.4"][0]
    )
    assert model.card.area_names == ("IT", "V1")


class TwoStep(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.cell = nn.Conv2d(4, 4, 3, padding=1)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        h = self.stem(x)
        for _ in range(2):
            h = torch.relu(self.cell(h)) + h
        return self.head(h.mean(dim=(2, 3)))


def test_a_module_that_runs_twice_is_committed_at_one_step():
    model = wrap(TwoStep(), name="two", areas={"V1": "stem"}, input_size=16)
    apply_commitment(model, {"V4": ("cell", 0)})
    assert model.card.area("V4").time_bins == ((90, 190), None)
    apply_commitment(model, {"V4": "cell"})  # without a step: the last call
    assert model.card.area("V4").time_bins == (None, (90, 190))
    assert len(record(model, torch.randn(1, 3, 16, 16), areas=["V4"])["V4"]) == 2
    with pytest.raises(BrainlikeError, match=r"cell runs 2 time\(s\) per forward pass, so it has no step 2"):
        apply_commitment(model, {"V4": ("cell", 2)})
    with pytest.raises(BrainlikeError, match=r"region IT: no submodule 'cel'; closest: cell"):
        apply_commitment(model, {"IT": "cel"})


def test_bad_neural_data_is_one_clear_line(tmp_path):
    model = small()
    x = torch.randn(12, 3, 16, 16)
    ids = [f"s{i}" for i in range(12)]
    flat = neural_data(ids, np.random.default_rng(0).standard_normal((12, 3)))
    with pytest.raises(BrainlikeError, match=r"no region per neuroid .* name its one region in regions"):
        commit_layers(model, flat, stimuli=x, regions=["V4", "IT"], progress=False)
    with pytest.raises(BrainlikeError, match=r"no recordings of region V1; the data has IT"):
        commit_layers(model, {"IT": flat}, stimuli=x, regions=["V1"], progress=False)
    binned = neural_data(ids, np.zeros((12, 3, 2)) + np.arange(12)[:, None, None], time_bins_ms=[(70, 120), (120, 170)])
    with pytest.raises(BrainlikeError, match=r"binned in time; .* average the bins"):
        commit_layers(model, {"IT": binned}, stimuli=x, progress=False)
    with pytest.raises(BrainlikeError, match=r"candidate layer: no submodule 'features\.9'"):
        commit_layers(model, {"IT": flat}, stimuli=x, candidates=["features.9"], progress=False)
    with pytest.raises(BrainlikeError, match=r"not a brainlike commitment file"):
        (tmp_path / "x.json").write_text("{}")
        Commitment.load(tmp_path / "x.json")


@pytest.mark.slow
def test_commit_from_files_writes_a_report_and_the_cli_prints_the_choice(tmp_path, capsys):
    model = small()
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(4)
    for i in range(STIMULI):
        Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(folder / f"im{i:02d}.png")
    ids = sorted(p.name for p in folder.iterdir())
    x = load_images([folder / i for i in ids], model.card.preprocessing, model.card.input_size)
    v4 = planted(model, x, "features.4", neuroids=10, seed=5, pool="none")
    it = planted(model, x, "features.6", neuroids=10, seed=6, pool="none")
    order = np.random.default_rng(7).permutation(STIMULI)  # the file lists stimuli in its own order
    neural = tmp_path / "neural.npz"
    np.savez(
        neural,
        stimulus_id=np.array(ids)[order],
        responses=np.concatenate([v4, it], axis=2)[:, order],
        region=np.array(["V4"] * 10 + ["IT"] * 10),
    )
    folder_out = commit_report(model, folder, neural, tmp_path / "report", max_features=300, progress=False)
    saved = Commitment.load(folder_out / "commitment.json")
    assert saved.regions == {"V4": ("features.4", 0), "IT": ("features.6", 0)}
    assert (folder_out / "scores.png").is_file() and "features.6" in (folder_out / "report.md").read_text()
    assert json.loads((folder_out / "report.json").read_text())["regions"]["IT"] == ["features.6", 0]

    import brainlike.analysis.commitment as commitment

    parser = argparse.ArgumentParser()
    add_commit(parser.add_subparsers())
    args = parser.parse_args(
        ["commit", "small", str(folder), "--neural", str(neural), "--regions", "IT", "-o", str(tmp_path / "cli")]
        + ["--max-features", "300", "--pretrained", "false"]
    )
    monkey = pytest.MonkeyPatch()
    monkey.setattr(commitment, "create_model", lambda name, pretrained: small())
    try:
        args.handler(args)
    finally:
        monkey.undo()
    assert "IT       features.6 (step 0)" in capsys.readouterr().out
    assert Commitment.load(tmp_path / "cli" / "commitment.json").areas == {"IT": "features.6"}
