import os

import pytest
import torch

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own empty BRAINLIKE_HOME, so nothing depends on a user's cache."""
    monkeypatch.setenv("BRAINLIKE_HOME", str(tmp_path_factory.mktemp("brainlike_home")))
