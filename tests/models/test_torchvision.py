import pytest
import torch
import torchvision

from brainlike import BrainlikeError, create_model, list_models, model_card, record
from brainlike.models.torchvision_zoo import hash_prefix
from brainlike.weights import cached_path


def test_every_torchvision_classifier_is_listed_but_not_among_plain_names():
    names = list_models("torchvision:*")
    assert set(names) == {f"torchvision:{n}" for n in torchvision.models.list_models(module=torchvision.models)}
    assert "torchvision:resnet50" in names and not any(":" in n for n in list_models())
    assert list_models("torchvision:resnet5*") == ["torchvision:resnet50"]


def test_weights_are_torchvisions_enums_through_brainlikes_cache():
    card = model_card("torchvision:resnet50")
    assert list(card.weights) == ["IMAGENET1K_V2", "IMAGENET1K_V1"]  # torchvision's DEFAULT first
    v1 = card.weights["IMAGENET1K_V1"]
    assert v1.url == torchvision.models.ResNet50_Weights.IMAGENET1K_V1.url and v1.sha256 == "0676ba61"
    assert cached_path(v1).parent.name == "weights" and cached_path(v1).name == "resnet50-0676ba61.pth"
    assert hash_prefix("https://x/vit_b_16_swag-9ac1b537.pth") == "9ac1b537" and hash_prefix("https://x/a.pth") is None


def test_transforms_map_to_presets():
    old = model_card("torchvision:resnet50", weights_tag="IMAGENET1K_V1")
    assert (old.preprocessing, old.input_size) == ("imagenet_crop", 224)  # resize 256, crop 224
    new = model_card("torchvision:resnet50")  # resize 232, crop 224
    assert new.preprocessing == "torchvision_232_224" and new.input_size == 224
    from brainlike.transforms import preset

    assert preset(new.preprocessing).crop_fraction == pytest.approx(224 / 232)


def test_unknown_name_suggests_close_ones():
    with pytest.raises(
        BrainlikeError, match=r"unknown torchvision model 'resnet51'; did you mean torchvision:resnet50"
    ):
        create_model("torchvision:resnet51")


def test_timm_missing_is_one_line(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "timm", None)
    with pytest.raises(BrainlikeError, match=r"^timm: models need the timm package: pip install timm$"):
        create_model("timm:resnet50")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["torchvision:resnet18", "torchvision:alexnet", "alexnet", "resnet50"])
def test_areas_record_through_taps_and_keys_are_torchvisions(name):
    model = create_model(name)
    reference = torchvision.models.get_model(name.split(":")[-1], weights=None)
    assert list(model.state_dict()) == list(reference.state_dict())
    acts = record(model, torch.randn(1, 3, 224, 224))
    assert list(acts) == ["V1", "V2", "V4", "IT"] and all(len(v) == 1 for v in acts.values())
    assert model.card.region_map() == {"V1": "V1", "V2": "V2", "V4": "V4", "IT": "IT"}


def test_alexnet_commitment_is_brain_scores():
    model = create_model("torchvision:alexnet")
    x = torch.randn(2, 3, 224, 224)
    acts = record(model, x, layers=["features.2", "features.12"])
    areas = record(model, x)
    torch.testing.assert_close(areas["V1"][0], acts["features.2"][0])
    torch.testing.assert_close(areas["IT"][0], acts["features.12"][0])
    assert any("Brain-Score" in note for note in model.card.notes)


def test_head_replacement_keeps_every_body_tensor_bitwise(tmp_path):
    torch.manual_seed(0)
    source = create_model("torchvision:resnet18")
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    with pytest.warns(UserWarning, match=r"new head, re-initialised fc\.bias, fc\.weight"):
        tuned = create_model("torchvision:resnet18", pretrained=str(path), num_classes=10)
    body = {k: v for k, v in source.state_dict().items() if not k.startswith("fc.")}
    mine = tuned.state_dict()
    assert all(torch.equal(mine[k], v) for k, v in body.items()) and len(body) == len(mine) - 2
    assert mine["fc.weight"].shape == (10, 512) and tuned.card.num_classes == 10
