"""Stimuli from a local server: hash-checked per file, resumable, atomic, and one clear line when offline.

Also covers the resumable `brainlike.downloads.download` underneath (HTTP range requests)."""

import hashlib
import os
import socket

import pytest

import brainlike.downloads as weights
from brainlike import BrainlikeError
from brainlike.data.geirhos import fetch_stimuli, stimuli_cache, stimulus_entries, stimulus_files
from brainlike.downloads import download, partial_path
from tests.analysis.behaviour.helpers import FIXTURES, STIMULI, RangeServer, fixture_images


@pytest.fixture
def served():
    server = RangeServer(FIXTURES)  # serves stimuli/<set>/<category>/<file>, the manifest's paths
    yield server
    server.close()


def _leftovers(root):
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_stimuli_download_into_the_cache_once(served):
    images = fixture_images("edges")
    folder = fetch_stimuli("edges", images=images, mirror=served.url, progress=False)
    assert folder == stimuli_cache() / "stimuli" / "edges"
    for image in images:
        digest = hashlib.sha256((folder / image).read_bytes()).hexdigest()
        assert digest == stimulus_entries("edges")[image]["sha256"]
    assert len(served.requests) == len(images) and not _leftovers(weights.brainlike_home() / "downloads")
    found = stimulus_files("edges", images=images, mirror=served.url, progress=False)
    assert len(served.requests) == len(images)  # the second time comes from the cache
    assert found.files == {i: folder / i for i in images} and not found.missing


def test_a_damaged_cached_stimulus_is_fetched_again(served):
    image = fixture_images("silhouettes")[0]
    folder = fetch_stimuli("silhouettes", images=[image], mirror=served.url, progress=False)
    (folder / image).write_bytes(b"damaged")
    fetch_stimuli("silhouettes", images=[image], mirror=served.url, progress=False)
    assert (folder / image).read_bytes() == (STIMULI / "filled-silhouettes" / image).read_bytes()


def test_a_hash_mismatch_is_refused_and_leaves_no_file(tmp_path):
    mirror = tmp_path / "mirror"
    image = fixture_images("edges")[0]
    served_file = mirror / "stimuli" / "edges" / image
    served_file.parent.mkdir(parents=True)
    served_file.write_bytes(b"tampered " + (STIMULI / "edges" / image).read_bytes())
    server = RangeServer(mirror)
    try:
        with pytest.raises(BrainlikeError, match="hash mismatch .* the file was removed"):
            fetch_stimuli("edges", images=[image], mirror=server.url, progress=False)
    finally:
        server.close()
    assert not _leftovers(stimuli_cache()) and not _leftovers(weights.brainlike_home() / "downloads")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_is_one_line_naming_the_folder_for_a_local_copy():
    with pytest.raises(BrainlikeError) as error:
        fetch_stimuli("cue-conflict", mirror=f"http://127.0.0.1:{_closed_port()}", progress=False)
    message = str(error.value)
    assert "\n" not in message and "could not download the cue-conflict stimuli" in message
    assert str(stimuli_cache() / "stimuli" / "style-transfer-preprocessed-512") in message and "--stimuli" in message
    assert "rgeirhos/texture-vs-shape" in message
    with pytest.raises(BrainlikeError, match="1280 cue-conflict stimuli are not in"):
        fetch_stimuli("cue-conflict", download=False)


def test_a_local_folder_is_used_as_it_is():
    found = stimulus_files("edges", STIMULI)
    assert sorted(found.files) == fixture_images("edges") and len(found.missing) == 160 - 8
    assert stimulus_files("edges", STIMULI / "edges").files == found.files  # the set folder itself
    with pytest.raises(BrainlikeError, match="not edges stimuli: bird/bird99.png"):
        stimulus_files("edges", STIMULI, images=["bird/bird99.png"])


class Killed(BaseException):
    pass


def _payload(tmp_path, size=3 * (1 << 20) + 123):
    root = tmp_path / "served"
    root.mkdir()
    data = os.urandom(size)
    (root / "big.bin").write_bytes(data)
    return root, data, hashlib.sha256(data).hexdigest()


def test_an_interrupted_download_resumes_where_it_stopped(tmp_path, monkeypatch):
    root, data, digest = _payload(tmp_path)
    server = RangeServer(root)
    dest = tmp_path / "cache" / "big.bin"
    real_tqdm, seen = weights.tqdm, []

    class DyingBar(real_tqdm):
        def update(self, n=1):
            seen.append(n)
            if len(seen) == 2:
                raise Killed  # after two 1 MiB chunks, as a Ctrl-C would

    try:
        monkeypatch.setattr(weights, "tqdm", DyingBar)
        with pytest.raises(Killed):
            download(f"{server.url}/big.bin", dest, digest, progress=False)
        kept = partial_path(f"{server.url}/big.bin", dest)
        assert not dest.exists() and kept.stat().st_size == 2 << 20
        monkeypatch.setattr(weights, "tqdm", real_tqdm)
        assert download(f"{server.url}/big.bin", dest, digest, progress=False) == dest
    finally:
        server.close()
    assert dest.read_bytes() == data and not kept.exists()
    assert [r for _, r in server.requests] == [None, f"bytes={2 << 20}-"]


def test_a_dropped_connection_resumes_in_the_same_call(tmp_path):
    root, data, digest = _payload(tmp_path)
    server = RangeServer(root, cut_after=1_500_000)
    dest = tmp_path / "big.bin"
    try:
        download(f"{server.url}/big.bin", dest, digest[:8], progress=False)
    finally:
        server.close()
    assert dest.read_bytes() == data and [r for _, r in server.requests] == [None, "bytes=1500000-"]


def test_a_server_without_ranges_sends_everything_again(tmp_path, monkeypatch):
    root, data, digest = _payload(tmp_path)
    server = RangeServer(root, ranges=False)
    dest = tmp_path / "big.bin"
    kept = partial_path(f"{server.url}/big.bin", dest)
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(data[:1000])
    try:
        download(f"{server.url}/big.bin", dest, digest, progress=False)
    finally:
        server.close()
    assert dest.read_bytes() == data and not kept.exists()


def test_kept_bytes_of_another_file_are_replaced_not_trusted(tmp_path):
    root, data, digest = _payload(tmp_path)
    server = RangeServer(root)
    dest = tmp_path / "big.bin"
    kept = partial_path(f"{server.url}/big.bin", dest)
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(b"x" * 5000)  # left over from another version of the file
    try:
        download(f"{server.url}/big.bin", dest, digest, progress=False)
    finally:
        server.close()
    assert dest.read_bytes() == data
    assert [r for _, r in server.requests] == ["bytes=5000-", None]


def test_without_a_hash_nothing_is_kept_or_resumed(tmp_path, monkeypatch):
    root, data, _ = _payload(tmp_path)
    server = RangeServer(root)
    dest = tmp_path / "big.bin"

    class DyingBar(weights.tqdm):
        def update(self, n=1):
            raise Killed

    try:
        monkeypatch.setattr(weights, "tqdm", DyingBar)
        with pytest.raises(Killed):
            download(f"{server.url}/big.bin", dest, None, progress=False)
    finally:
        server.close()
    assert not dest.exists() and not partial_path(f"{server.url}/big.bin", dest).exists()
