"""calc_ventral_small: the laptop miniature of calc_ventral, and the region commitments of the CALC cards."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from brainlike import create_model, model_card, record
from brainlike.models.calc import REGIONS, CALCNet, shipped_spec


def test_the_miniature_keeps_the_anatomy_and_scales_the_sizes():
    faithful, small = shipped_spec("ventral_224"), shipped_spec("ventral_112")
    assert [layer.name for layer in small.layers] == [layer.name for layer in faithful.layers]
    assert sorted((c.pre, c.post) for c in small.connections) == sorted((c.pre, c.post) for c in faithful.connections)
    # the same 44.8 deg field at twice the pixel size
    assert small.input_width * small.pixel_degrees == pytest.approx(faithful.input_width * faithful.pixel_degrees)
    assert small.pixel_degrees == pytest.approx(2 * faithful.pixel_degrees) and small.input_width == 112
    for a, b in zip(faithful.layers, small.layers):  # 1/16 of the units (channels x width^2) of every layer
        if b.channels <= 1:  # at the fit's floor of one map (the LGN)
            continue
        assert b.channels * b.width**2 / (a.channels * a.width**2) == pytest.approx(1 / 16, rel=0.15), a.name


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    return create_model("calc_ventral_small").eval()


def test_calc_ventral_small_has_10_to_20_million_parameters(small):
    parameters = sum(p.numel() for p in small.parameters())
    assert 10e6 < parameters < 20e6  # calc_ventral: 654 M
    assert small.card.input_size == 112 and small.card.visual_degrees == pytest.approx(44.8)


@pytest.mark.slow
def test_calc_ventral_small_runs_at_its_input_size_with_a_tap_per_area(small):
    x = torch.randn(2, 3, 112, 112)
    recorded = record(small, x, areas=["V1", "V4", "TEpd"])
    assert {area: tuple(acts[0].shape) for area, acts in recorded.items()} == {
        "V1": (2, 239, 28, 28),
        "V4": (2, 65, 28, 28),
        "TEpd": (2, 160, 7, 7),
    }
    with torch.no_grad():
        logits = small(x)
    assert logits.shape == (2, 1000) and torch.isfinite(logits).all()


@pytest.mark.slow
def test_calc_ventral_small_trains(small):
    model = create_model("calc_ventral_small", num_classes=3).train()
    loss = torch.nn.functional.cross_entropy(model(torch.randn(2, 3, 112, 112)), torch.tensor([0, 2]))
    loss.backward()
    assert all(p.grad is not None for p in model.backbone.convs.parameters())


@pytest.mark.slow
def test_building_reports_progress_up_to_every_weight():
    seen = []
    model = CALCNet(
        shipped_spec("ventral_32"),
        output="V4_2/3",
        input_size=32,
        head="cifar",
        progress=lambda done, total: seen.append((done, total)),
    )
    weights = sum(conv.weight.numel() for conv in model.backbone.convs)
    assert len(seen) == len(model.backbone.convs)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1] == (weights, weights)


@pytest.mark.slow
def test_create_model_logs_the_build_progress(caplog):
    with caplog.at_level(logging.INFO, logger="brainlike.models.calc"):
        model = create_model("calc_cifar")
    lines = [r.getMessage() for r in caplog.records if r.name == "brainlike.models.calc"]
    weights = sum(conv.weight.numel() for conv in model.backbone.convs)
    assert len(lines) == len(model.backbone.convs)
    assert lines[-1].startswith(f"CALC: {weights} of {weights} weights built")
    assert model.card.config == {}  # the progress reporting leaves the card alone


@pytest.mark.parametrize("name", ["calc_ventral", "calc_ventral_small"])
def test_ventral_cards_commit_v1_v2_v4_and_it(name):
    card = model_card(name)
    assert card.region_map() == {"V1": "V1", "V2": "V2", "V4": "V4", "IT": "TEpd"}
    assert card.area("TEO").region is None
    assert any("ours, not published" in note for note in card.notes)


def test_cifar_card_commits_only_the_areas_it_has():
    assert model_card("calc_cifar").region_map() == {"V1": "V1", "V2": "V2", "V4": "V4"}
    assert set(REGIONS) == {"V1", "V2", "V4", "IT"}


def test_the_build_summary_imports_no_torch():
    spec = Path(__file__).parents[2] / "src" / "brainlike" / "anatomy" / "data" / "specs" / "ventral_224.json"
    code = (
        "import sys\n"
        "from brainlike.anatomy.summary import build_summary\n"
        f"text = build_summary({str(spec)!r})\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print(text.splitlines()[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "646,112,213 parameters; output TEpd_6 (1, 67, 14, 14) for a 224 px input" in done.stdout
