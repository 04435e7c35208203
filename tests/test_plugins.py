"""A distribution declaring the entry point group `brainlike.models` adds its models to the registry.

The fixture package tests/fixtures/plugin is "installed" the way pip leaves it on disk: its module and a
`.dist-info` folder with `entry_points.txt` in a folder on sys.path (importlib.metadata finds it there),
without running pip in the test environment.
"""

import shutil
import sys
from pathlib import Path

import pytest
import torch

from brainlike import create_model, list_models, record, registry

PLUGIN = Path(__file__).parent / "fixtures" / "plugin"


@pytest.fixture
def installed(tmp_path, monkeypatch):
    site = tmp_path / "site"
    shutil.copytree(PLUGIN / "brainlike_toy_plugin", site / "brainlike_toy_plugin")
    info = site / "brainlike_toy_plugin-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brainlike-toy-plugin\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[brainlike.models]\ntoy = brainlike_toy_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    yield
    registry._REGISTRY.pop("toy_plugin_net", None)  # leave the registry (and the README table) as it was
    registry._plugins_seen.discard("toy=brainlike_toy_plugin")
    registry._plugins_path = None
    sys.modules.pop("brainlike_toy_plugin", None)


def test_a_plugin_model_appears_in_list_models_and_builds(installed):
    assert "toy_plugin_net" in list_models()
    model = create_model("toy_plugin_net", num_classes=4)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 4)
    assert record(model, torch.zeros(1, 3, 32, 32))["V1"][0].shape == (1, 4, 30, 30)


def test_without_the_plugin_its_model_is_absent():
    assert "toy_plugin_net" not in list_models()
