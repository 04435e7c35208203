import http.server
import os
import threading

import pytest
import torch

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own empty BRAINLIKE_HOME, so nothing depends on a user's cache."""
    monkeypatch.setenv("BRAINLIKE_HOME", str(tmp_path_factory.mktemp("brainlike_home")))


@pytest.fixture
def server(tmp_path):
    """A throwaway HTTP server on 127.0.0.1 serving tmp_path/served: (that folder, its base URL)."""
    root = tmp_path / "served"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join()
