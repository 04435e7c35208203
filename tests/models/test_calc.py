"""CALC networks: built modules match their spec, masks stay sparse, registered models run, CLI works."""

import json
import math
from pathlib import Path

import pytest
import torch

from brainlike import create_model, model_card, record
from brainlike.anatomy.fit import fit_system
from brainlike.anatomy.spec import ArchitectureSpec, spec_from_fit
from brainlike.anatomy.system import System
from brainlike.cli import main
from brainlike.errors import BrainlikeError
from brainlike.models.calc import Backbone, CALCNet, build_summary, shipped_spec
from brainlike.models.calc_wiring import prepare

FIXTURES = Path(__file__).parents[1] / "fixtures" / "calc"


SMALL = {
    "input": {"name": "INPUT", "pixels": 16, "pixel_degrees": 0.5, "channels": 3},
    "populations": [
        {"name": "V1", "n": 16 * 16 * 16, "e": 50, "w": 1.0},
        {"name": "V2", "n": 8 * 8 * 32, "e": 100, "w": 2.0},
        {"name": "V4", "n": 4 * 4 * 64, "e": 100, "w": 4.0},
    ],
    "projections": [
        {"pre": "INPUT", "post": "V1", "f": 1, "stride": 1},
        {"pre": "V1", "post": "V2", "f": 1, "stride": 2},
        {"pre": "V1", "post": "V4", "f": 0.3, "stride": 4},
        {"pre": "V2", "post": "V4", "f": 0.7, "stride": 2},
    ],
}


@pytest.fixture(scope="module")
def spec():
    return spec_from_fit(fit_system(System.from_dict(SMALL)))


def test_module_layers_and_channels_equal_the_spec(spec):
    backbone = Backbone(spec, output="V4").eval()
    layers, conns, indices = prepare(spec, output="V4")
    x = torch.randn(2, 3, spec.input_width, spec.input_width)
    acts = {}
    for name in backbone.layer_names:
        backbone.get_submodule(f"{name}.output").register_forward_hook(
            lambda m, i, o, name=name: acts.__setitem__(name, o)
        )
    with torch.no_grad():
        out = backbone(x)
    assert backbone.layer_names == ["V1", "V2", "V4"]
    for layer in spec.layers:
        assert acts[layer.name].shape[-1] == layer.width
    assert out.shape[1] == round(spec.layer("V4").channels)
    for conv, conn, idx in zip(backbone.convs, conns, indices):
        original = next(c for c in spec.connections if c.name == conn.name)
        assert conv.kernel_size[0] % 2 == 1 and conv.stride[0] == original.stride
        assert conv.in_channels == len(idx)
        assert conv.out_channels <= round(spec.layer(conn.post).channels)


def test_masks_hold_their_density_through_a_training_step(spec):
    model = CALCNet(spec, output="V4", input_size=spec.input_width, head="cifar")
    backbone = model.backbone
    before = [backbone.masks[k].clone() for k in range(len(backbone.convs))]
    for k, conn in enumerate(backbone.connections):
        n = backbone.convs[k].weight.numel()
        assert before[k].sum().item() == max(1, round(n * conn.sigma))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(4, 3, spec.input_width, spec.input_width)
    loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    for k, conv in enumerate(backbone.convs):
        assert conv.weight.grad[~before[k]].abs().sum() == 0
    optimizer.step()
    backbone.keep_sparse()
    for k, conv in enumerate(backbone.convs):
        assert torch.equal(backbone.masks[k], before[k])
        assert (conv.weight[~before[k]] == 0).all()


def test_snip_keeps_the_fitted_density(spec):
    model = CALCNet(spec, output="V4", input_size=spec.input_width, head="cifar")
    x = torch.randn(4, 3, spec.input_width, spec.input_width)
    model.backbone.snip(torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 3])))
    for k, conn in enumerate(model.backbone.connections):
        n = model.backbone.convs[k].weight.numel()
        assert model.backbone.masks[k].sum().item() >= max(1, int(n * conn.sigma))


def test_state_dict_keys_follow_the_original(spec):
    keys = Backbone(spec, output="V4").state_dict().keys()
    assert {"convs.0.weight", "convs.0.bias", "bns.0.running_mean", "subsample_indices.0", "masks.0"} <= set(keys)


def test_log_space_scaling_takes_powers_of_c_and_sigma(spec):
    _, plain, _ = prepare(spec, output="V4")
    _, scaled, indices = prepare(spec, output="V4", c_scale=0.5, sigma_scale=0.5)
    m = {layer.name: round(layer.channels) for layer in spec.layers}
    for a, b, idx in zip(plain, scaled, indices):
        assert b.sigma == pytest.approx(min(1.0, a.sigma**0.5))
        assert b.c == pytest.approx(a.c**0.5)
        if b.pre != "INPUT":
            assert len(idx) == round(m[b.pre] * b.c)


@pytest.mark.slow
def test_calc_cifar_runs_with_one_tap_per_area():
    model = create_model("calc_cifar").eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert model(x).shape == (1, 10)
    recorded = record(model, x)
    assert list(recorded) == ["LGN", "V1", "V2", "V4"]
    assert recorded["V1"][0].shape[-1] == 32 // shipped_spec("ventral_32").cumulative_stride("V1_2/3interblob")


def test_calc_ventral_card_and_spec():
    card = model_card("calc_ventral")
    assert card.area_names == ("LGN", "V1", "V2", "V4", "TEO", "TEpd")
    spec = shipped_spec("ventral_224")
    assert spec.input_width == 224 and math.isfinite(spec.fit["total"])
    layers, _, _ = prepare(spec, output="TEpd_2/3")
    assert layers[-1].name == "TEpd_2/3" or "TEpd_2/3" in [layer.name for layer in layers]


@pytest.mark.slow
def test_cli_fit_build_show(tmp_path, capsys):
    out = tmp_path / "fit"
    assert main(["calc", "fit", str(FIXTURES / "integration_system.json"), "-o", str(out)]) == 0
    fit = json.loads((out / "fit.json").read_text())
    assert fit["total"] == pytest.approx(0.2599586, abs=1e-6) and fit["seconds"] > 0
    assert set(fit["terms"]) == {"f", "b", "e", "w_rf", "dead_end", "kernel", "rf"}
    assert ArchitectureSpec.load(out / "network.json").layers[-1].name == "V4_5"
    small = tmp_path / "small"
    assert main(["calc", "fit", "test_conversion_system_2_V1_V2_V4", "-o", str(small)]) == 0
    assert main(["calc", "build", str(small / "network.json")]) == 0
    assert "convolutions" in capsys.readouterr().out
    assert main(["calc", "show", str(out)]) == 0
    assert (out / "flne.png").is_file() and (out / "layers.png").is_file()


def test_cli_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["calc", "fit", str(bad), "-o", str(tmp_path / "x")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    with pytest.raises(BrainlikeError):
        ArchitectureSpec.from_dict({"input": {}})


@pytest.mark.slow
def test_build_summary_matches_the_built_network_without_running_it(monkeypatch, tmp_path):
    spec = shipped_spec("ventral_32")
    output = spec.layers[-1].name
    backbone = Backbone(spec, output=output).eval()
    spec.save(tmp_path / "network.json")
    with torch.no_grad():
        shape = tuple(backbone(torch.zeros(1, spec.input_channels, 29, 29)).shape)
    built = [
        f"  {conn.name:32s} in {conv.in_channels:5d} out {conv.out_channels:5d} kernel {conv.kernel_size[0]:3d} "
        f"stride {conv.stride[0]} density {mask.float().mean().item():.3f}"
        for conn, conv, mask in zip(backbone.connections, backbone.convs, backbone.masks)
    ]

    def no_forward(*_):
        raise AssertionError("calc build ran the network")

    monkeypatch.setattr(Backbone, "forward", no_forward)
    monkeypatch.setattr(Backbone, "__init__", no_forward)
    summary = build_summary(str(tmp_path / "network.json"), input_size=29).splitlines()
    params = sum(p.numel() for p in backbone.parameters())
    assert summary[0].endswith(f"{params:,} parameters; output {output} {shape} for a 29 px input")
    assert summary[1:] == built
