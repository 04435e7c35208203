"""Shared pieces of the behaviour tests: the fixture stimuli, models that know the answers, a local server."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import torch
import torch.nn as nn

from brainlike.analysis.behaviour import CategoryMap
from brainlike.data.geirhos import categories16, parse_image
from brainlike.transforms import load_images

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "geirhos"
STIMULI = FIXTURES / "stimuli"
SETS = {"cue-conflict": "style-transfer-preprocessed-512", "edges": "edges", "silhouettes": "filled-silhouettes"}


def fixture_images(experiment: str) -> list[str]:
    folder = STIMULI / SETS[experiment]
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png"))


def logits_favouring(images: list[str], cue: str, num_classes: int = 1000) -> torch.Tensor:
    """1000-way logits whose winner is the first ImageNet class of each image's shape (or texture) category."""
    logits = torch.zeros(len(images), num_classes)
    for row, image in enumerate(images):
        shape, texture = parse_image(image)
        logits[row, categories16()[shape if cue == "shape" else texture][0]] = 8.0
    return logits


class Oracle(nn.Module):
    """A card-less ImageNet classifier that recognises the stimuli it was shown (nearest stored input) and
    answers with their shape or texture category."""

    def __init__(self, experiment: str, cue: str):
        super().__init__()
        images = fixture_images(experiment)
        folder = STIMULI / SETS[experiment]
        self.register_buffer("inputs", load_images([folder / i for i in images], "imagenet", 224).flatten(1))
        self.register_buffer("answers", logits_favouring(images, cue))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nearest = torch.cdist(x.flatten(1).float(), self.inputs).argmin(dim=1)
        return self.answers[nearest]


def manual_decisions(logits: torch.Tensor, cmap: CategoryMap) -> list[str]:
    probabilities = logits.softmax(dim=1)
    means = torch.stack([probabilities[:, list(ix)].mean(dim=1) for ix in cmap.indices.values()], dim=1)
    return [cmap.categories[i] for i in means.argmax(dim=1).tolist()]


class RangeServer:
    """Serves files from a folder on 127.0.0.1 with HTTP range requests; records every request's Range
    header; can ignore ranges or cut the first response of a path short."""

    def __init__(self, root: Path, *, ranges: bool = True, cut_after: int | None = None):
        self.root, self.ranges, self.cut_after = root, ranges, cut_after
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Range")))
                path = server.root / self.path.lstrip("/")
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                start = 0
                wanted = self.headers.get("Range")
                if wanted and server.ranges:
                    start = int(wanted.removeprefix("bytes=").split("-")[0])
                    if start >= len(data):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.cut_after is not None:
                    body, server.cut_after = body[: server.cut_after], None
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
