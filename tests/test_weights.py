"""Checkpoints: official format, safetensors, download + hash check + atomic write, and every error."""

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from brainlike import BrainlikeError, create_model, registry
from brainlike.downloads import download
from brainlike.weights import WeightSpec, cached_path, fetch, pins, read_state_dict, save_weights


@pytest.fixture(scope="module")
def cornet_z():
    return create_model("cornet_z").eval()


def _logits(model, x):
    with torch.no_grad():
        return model(x)


@pytest.mark.parametrize("name", ["cornet_z", "cornet_rt"])
def test_official_format_round_trip(tmp_path, name):
    source = create_model(name).eval()
    path = save_weights(source, tmp_path / f"{name}.pth", dataparallel_format=True)
    raw = torch.load(path, weights_only=True)
    assert list(raw) == ["state_dict"] and all(k.startswith("module.") for k in raw["state_dict"])
    loaded = create_model(name, pretrained=str(path)).eval()
    x = torch.randn(1, 3, 96, 96)
    assert torch.equal(_logits(source, x), _logits(loaded, x))


def test_plain_state_dict_and_safetensors_load(tmp_path, cornet_z):
    x = torch.randn(1, 3, 96, 96)
    for file_name in ("plain.pt", "weights.safetensors"):
        path = save_weights(cornet_z, tmp_path / file_name)
        loaded = create_model("cornet_z", pretrained=path).eval()
        assert torch.equal(_logits(cornet_z, x), _logits(loaded, x))


def test_code_that_needs_unpickling_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {}, "payload": Path("/etc/passwd")}, path)
    with pytest.raises(BrainlikeError, match="refuses to unpickle"):
        read_state_dict(path)


def test_corrupt_file_is_reported(tmp_path):
    path = tmp_path / "broken.pth"
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(BrainlikeError, match="broken.pth is not a readable torch checkpoint"):
        create_model("cornet_z", pretrained=str(path))


def test_missing_and_unexpected_keys_are_listed(tmp_path, cornet_z):
    state = cornet_z.state_dict()
    state.pop("V1.conv.bias")
    state["V9.conv.weight"] = torch.zeros(1)
    path = tmp_path / "wrong.pt"
    torch.save(state, path)
    with pytest.raises(BrainlikeError) as error:
        create_model("cornet_z", pretrained=str(path))
    message = str(error.value)
    assert "missing keys: V1.conv.bias" in message and "unexpected keys: V9.conv.weight" in message
    assert "wrong.pt" in message


def test_shape_mismatch_is_listed(tmp_path, cornet_z):
    state = cornet_z.state_dict()
    state["decoder.linear.weight"] = torch.zeros(10, 512)
    path = tmp_path / "ten_classes.pt"
    torch.save(state, path)
    with pytest.raises(
        BrainlikeError, match=r"shape mismatches: decoder.linear.weight \(10, 512\) \(model \(1000, 512\)\)"
    ):
        create_model("cornet_z", pretrained=str(path))


def test_weights_of_another_model_do_not_load(tmp_path):
    path = save_weights(create_model("cornet_z"), tmp_path / "z.pt")
    with pytest.raises(BrainlikeError, match="does not fit cornet_s"):
        create_model("cornet_s", pretrained=str(path))


def test_unknown_tag_or_missing_file(tmp_path):
    with pytest.raises(BrainlikeError, match="neither a weight tag .published: imagenet. nor an existing file"):
        create_model("cornet_z", pretrained=str(tmp_path / "nope.pth"))


def _serve_checkpoint(root: Path, model, name="cornet_z"):
    staged = save_weights(model, root / "staging.pth", dataparallel_format=True)
    digest = hashlib.sha256(staged.read_bytes()).hexdigest()
    final = root / f"{name}-{digest[:8]}.pth"
    staged.rename(final)
    return final, digest


def test_pretrained_true_downloads_verifies_caches_and_loads(server, cornet_z, monkeypatch):
    root, base = server
    final, digest = _serve_checkpoint(root, cornet_z)
    spec = WeightSpec(url=f"{base}/{final.name}", sha256=digest[:8])
    entry = registry._entry("cornet_z")
    served_card = lambda **config: replace(entry.card(**config), weights={"imagenet": spec})  # noqa: E731
    monkeypatch.setitem(registry._REGISTRY, "cornet_z", replace(entry, card=served_card))
    model = create_model("cornet_z", pretrained=True).eval()
    x = torch.randn(1, 3, 64, 64)
    assert torch.equal(_logits(model, x), _logits(cornet_z, x))
    cached = cached_path(spec)
    assert cached.is_file() and not list(cached.parent.glob("*.part"))
    final.unlink()  # a second load comes from the cache, without the server having the file
    assert torch.equal(_logits(create_model("cornet_z", pretrained="imagenet").eval(), x), _logits(cornet_z, x))


def test_hash_mismatch_removes_the_file(server, cornet_z):
    root, base = server
    final, _ = _serve_checkpoint(root, cornet_z)
    spec = WeightSpec(url=f"{base}/{final.name}", sha256="deadbeef")
    with pytest.raises(BrainlikeError, match="hash mismatch .* the file was removed"):
        fetch(spec, progress=False)
    assert not cached_path(spec).exists()
    assert not list(cached_path(spec).parent.glob("*"))


def test_a_cached_file_that_was_corrupted_is_detected(server, cornet_z):
    root, base = server
    final, digest = _serve_checkpoint(root, cornet_z)
    spec = WeightSpec(url=f"{base}/{final.name}", sha256=digest)
    path = fetch(spec, progress=False)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(BrainlikeError, match="hash mismatch"):
        fetch(spec, progress=False)
    assert not path.exists()


def test_offline_message_names_url_and_destination(server, tmp_path):
    _, base = server
    spec = WeightSpec(url=f"{base}/missing-0123abcd.pth", sha256="0123abcd")
    with pytest.raises(BrainlikeError) as error:
        fetch(spec, progress=False)
    assert spec.url in str(error.value) and str(cached_path(spec)) in str(error.value)


def test_interrupted_download_leaves_no_complete_looking_file(server, cornet_z, tmp_path, monkeypatch):
    root, base = server
    final, digest = _serve_checkpoint(root, cornet_z)
    dest = tmp_path / "cache" / final.name
    written = []

    class Killed(BaseException):
        pass

    import brainlike.downloads as weights_module

    real_tqdm = weights_module.tqdm

    class DyingBar(real_tqdm):
        def update(self, n=1):
            written.append(n)
            raise Killed

    monkeypatch.setattr(weights_module, "tqdm", DyingBar)
    with pytest.raises(Killed):
        download(f"{base}/{final.name}", dest, digest, progress=False)
    assert written and not dest.exists() and not list(dest.parent.glob("*"))


def test_a_file_published_without_a_hash_is_pinned_on_first_use(server, cornet_z):
    root, base = server
    final, digest = _serve_checkpoint(root, cornet_z)
    spec = WeightSpec(url=f"{base}/{final.name}")
    with pytest.warns(UserWarning, match="pinned on first use"):
        path = fetch(spec, progress=False)
    assert pins()[spec.file_name] == digest
    assert fetch(spec, progress=False) == path  # checked against the pin, no second warning needed
    path.write_bytes(b"someone else's file")
    with pytest.raises(BrainlikeError, match="pinned on first use .* moved to"):
        fetch(spec, progress=False)


def test_a_wrong_file_in_the_cache_is_moved_aside_not_deleted(server, cornet_z):
    root, base = server
    final, digest = _serve_checkpoint(root, cornet_z)
    spec = WeightSpec(url=f"{base}/{final.name}", sha256=digest)
    cached_path(spec).parent.mkdir(parents=True, exist_ok=True)
    cached_path(spec).write_bytes(b"placed by hand")
    with pytest.raises(BrainlikeError, match="put the right file at") as error:
        fetch(spec, progress=False)
    aside = Path(str(error.value).split("moved to ")[1].split(";")[0])
    assert aside.read_bytes() == b"placed by hand" and not cached_path(spec).exists()


def test_not_found_is_told_apart_from_offline(server):
    _, base = server
    spec = WeightSpec(url=f"{base}/gone-0123abcd.pth", sha256="0123abcd")
    with pytest.raises(BrainlikeError, match="server answered 404") as error:
        fetch(spec, progress=False)
    assert "offline" not in str(error.value)
    offline = WeightSpec(url="http://127.0.0.1:9/none-0123abcd.pth", sha256="0123abcd")
    with pytest.raises(BrainlikeError, match="offline, fetch it by other means"):
        fetch(offline, progress=False)


def test_a_pickled_global_is_refused_with_brainlikes_own_message(tmp_path):
    import os

    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {}, "hook": os.system}, path)
    with pytest.raises(BrainlikeError, match="refuses to unpickle") as error:
        read_state_dict(path)
    assert "weights_only" not in str(error.value)


@pytest.mark.slow
def test_random_and_damaged_checkpoints_are_always_a_brainlike_error(tmp_path, cornet_z):
    """200 files, seeded: random bytes, truncated torch and safetensors files, torch files with bytes flipped."""
    import io
    import random
    import warnings

    from safetensors.torch import save as safetensors_bytes

    rng = random.Random(0)
    buffer = io.BytesIO()
    torch.save({"state_dict": cornet_z.state_dict()}, buffer)
    torch_file = buffer.getvalue()
    safetensors_file = safetensors_bytes({k: v.contiguous() for k, v in cornet_z.state_dict().items()})
    for i in range(200):
        kind = i % 4
        if kind == 0:
            data, suffix = rng.randbytes(rng.randint(0, 400)), ".pth"
        elif kind == 1:
            data, suffix = torch_file[: rng.randrange(len(torch_file))], ".pth"
        elif kind == 2:
            data, suffix = safetensors_file[: rng.randrange(len(safetensors_file))], ".safetensors"
        else:
            flipped = bytearray(torch_file)
            for _ in range(20):
                flipped[rng.randrange(len(flipped))] = rng.getrandbits(8)
            data, suffix = bytes(flipped), ".pth"
        path = tmp_path / f"file{i}{suffix}"
        path.write_bytes(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about odd pickle protocols in random bytes
            try:
                create_model("cornet_z", pretrained=path)
            except BrainlikeError:
                continue
            finally:
                path.unlink()  # one damaged file on disk at a time
        assert kind == 3, f"file {i} (kind {kind}) was accepted"


def test_weights_with_nan_are_refused(tmp_path, cornet_z):
    state = {k: v.clone() for k, v in cornet_z.state_dict().items()}
    state["IT.conv.weight"][0, 0, 0, 0] = float("nan")
    path = tmp_path / "nan.pt"
    torch.save(state, path)
    with pytest.raises(BrainlikeError, match="NaN or infinite values in IT.conv.weight"):
        create_model("cornet_z", pretrained=path)


def test_a_brainlike_home_that_is_a_file_is_a_clear_error(tmp_path, monkeypatch):
    from brainlike.downloads import brainlike_home

    (tmp_path / "home").write_text("")
    monkeypatch.setenv("BRAINLIKE_HOME", str(tmp_path / "home"))
    with pytest.raises(BrainlikeError, match="is not a folder"):
        brainlike_home()


def _published_weights():
    """(model, tag) of every registered weight entry, and those of one torchvision: model."""
    entries = [(name, tag) for name in registry.list_models() for tag in registry.model_card(name).weights]
    return entries + [("torchvision:resnet18", tag) for tag in registry.model_card("torchvision:resnet18").weights]


@pytest.mark.parametrize("name, tag", _published_weights())
def test_every_weight_entry_names_its_licence_source_citation_and_size(name, tag):
    spec = registry.model_card(name).weights[tag]
    assert spec.licence and spec.source.startswith("https://") and len(spec.citation) > 20, spec
    assert isinstance(spec.parameters, int) and spec.parameters > 0, spec


@pytest.mark.slow
@pytest.mark.parametrize("name, tag", _published_weights())
def test_the_parameter_count_of_every_weight_entry_is_that_of_the_built_model(name, tag):
    spec = registry.model_card(name).weights[tag]
    try:
        with torch.device("meta"):  # no memory, no initialisation: counts only
            model = create_model(name, **spec.config)
    except (RuntimeError, TypeError, NotImplementedError):  # builders that compute kernels with numpy
        model = create_model(name, **spec.config)
    assert sum(p.numel() for p in model.parameters()) == spec.parameters


def test_info_shows_the_licence_size_source_and_citation_of_the_weights(capsys):
    from brainlike.cli import main

    assert main(["info", "cornet_z"]) == 0
    out = capsys.readouterr().out
    assert (
        "  imagenet: licence GPL-3.0-or-later; 2,071,656 parameters; source https://github.com/dicarlolab/CORnet" in out
    )
    assert "    cite: Kubilius J, Schrimpf M" in out
