"""Integration tests against the real brainscore_vision (`.ci/brainscore-check` builds its environment).

Collected only where brainscore_vision imports, so the ordinary suite skips this folder. Brain-Score reads
its cache and screen folders from the environment when it is imported, so they are pointed at a temporary
folder first; plugins must not pip-install anything, and nothing here touches the network.
"""

import atexit
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

if importlib.util.find_spec("brainscore_vision") is None:
    collect_ignore_glob = ["test_*.py"]
else:
    _home = Path(tempfile.mkdtemp(prefix="brainscore-home-"))
    atexit.register(shutil.rmtree, _home, ignore_errors=True)
    os.environ.setdefault("BRAINSCORE_HOME", str(_home / "brain-score"))
    os.environ.setdefault("BRAINIO_HOME", str(_home / "brainio"))
    os.environ.setdefault("RESULTCACHING_HOME", str(_home / "result_caching"))
    os.environ["RESULTCACHING_DISABLE"] = "1"
    os.environ["BS_INSTALL_DEPENDENCIES"] = "no"


@pytest.fixture(autouse=True)
def _screen_in_tmp(tmp_path, monkeypatch):
    """Brain-Score writes stimuli resized to the model's degrees under its home; keep them per test."""
    from brainscore_vision.benchmark_helpers import screen

    monkeypatch.setattr(screen, "root_path", tmp_path / "stimuli_on_screen")


def make_stimulus_set(folder: Path, count: int, *, identifier: str, size: int = 32, seed: int = 0):
    """A Brain-Score StimulusSet of `count` generated images (smooth random blobs), two objects alternating."""
    from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows, paths = [], {}
    for i in range(count):
        coarse = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
        image = Image.fromarray(coarse).resize((size, size), Image.BILINEAR)
        stimulus_id = f"s{i:03d}"
        paths[stimulus_id] = folder / f"{stimulus_id}.png"
        image.save(paths[stimulus_id])
        rows.append({"stimulus_id": stimulus_id, "object_name": f"object{i % 2}", "image_label": f"label{i % 2}"})
    stimulus_set = StimulusSet(rows)
    stimulus_set.stimulus_paths = paths
    stimulus_set.identifier = identifier
    return stimulus_set
