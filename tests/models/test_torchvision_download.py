"""torchvision weights come through brainlike's cache, checked against the hash prefix in torchvision's file
name; served here from 127.0.0.1, so nothing touches the network."""

import hashlib

import pytest
import torch
from torchvision.models import ResNet18_Weights

from brainlike import BrainlikeError, create_model
from brainlike.downloads import brainlike_home
from brainlike.weights import cached_path


def _serve(root, state_dict, *, prefix_of=None):
    """Save `state_dict` as torchvision names its files, `resnet18-<first 8 hex of the sha256>.pth` (of
    `prefix_of`'s bytes instead, to serve a file whose name does not match its content)."""
    staged = root / "staged.pth"
    torch.save(state_dict, staged)
    digest = hashlib.sha256(staged.read_bytes() if prefix_of is None else prefix_of).hexdigest()
    final = root / f"resnet18-{digest[:8]}.pth"
    staged.rename(final)
    return final


def _point_weights_at(monkeypatch, url):
    monkeypatch.setattr(ResNet18_Weights.IMAGENET1K_V1.value, "url", url)


@pytest.mark.slow
def test_weights_download_into_brainlikes_cache_and_load_bitwise(server, monkeypatch):
    root, base = server
    torch.manual_seed(1)
    published = create_model("torchvision:resnet18").state_dict()
    final = _serve(root, published)
    _point_weights_at(monkeypatch, f"{base}/{final.name}")
    model = create_model("torchvision:resnet18", pretrained="IMAGENET1K_V1")
    spec = model.card.weights["IMAGENET1K_V1"]
    assert spec.sha256 == final.stem.split("-")[1]  # the prefix torchvision puts in the file name
    assert all(torch.equal(v, published[k]) for k, v in model.state_dict().items())
    cached = cached_path(spec)
    assert cached == brainlike_home() / "weights" / final.name and cached.is_file()
    final.unlink()  # the second time comes from the cache
    again = create_model("torchvision:resnet18", pretrained=True)  # DEFAULT is IMAGENET1K_V1 for resnet18
    assert torch.equal(again.state_dict()["fc.weight"], published["fc.weight"])


@pytest.mark.slow
def test_a_file_whose_name_hash_does_not_match_is_refused(server, monkeypatch):
    root, base = server
    torch.manual_seed(2)
    final = _serve(root, create_model("torchvision:resnet18").state_dict(), prefix_of=b"other bytes")
    _point_weights_at(monkeypatch, f"{base}/{final.name}")
    expected = hashlib.sha256(b"other bytes").hexdigest()[:8]
    with pytest.raises(BrainlikeError, match=rf"hash mismatch for {base}/resnet18-{expected}\.pth: .* {expected}"):
        create_model("torchvision:resnet18", pretrained=True)
    assert not cached_path(create_model("torchvision:resnet18").card.weights["IMAGENET1K_V1"]).exists()
