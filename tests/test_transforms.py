"""Image loading and preprocessing presets."""

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import v2

from brainlike import BrainlikeError, load_images
from brainlike.transforms import IMAGENET_MEAN, IMAGENET_STD, degrees_to_pixels, geometry, pixels_to_degrees, preprocess


@pytest.fixture
def image_files(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    paths = {}
    for mode in ("RGB", "L", "RGBA", "P"):
        image = Image.fromarray(rgb).convert(mode)
        paths[mode] = tmp_path / f"{mode}.png"
        image.save(paths[mode])
    return paths


def test_every_image_mode_becomes_a_normalised_rgb_batch(image_files):
    batch = load_images(list(image_files.values()), "imagenet", 32)
    assert batch.shape == (4, 3, 32, 32) and batch.dtype == torch.float32


def test_imagenet_preset_normalises_with_mean_and_std():
    white = Image.new("RGB", (10, 10), (255, 255, 255))
    x = preprocess("imagenet", 8)(white)
    expected = (1 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    assert torch.allclose(x[:, 0, 0], expected)


def test_minus_one_one_preset_spans_minus_one_to_one():
    gradient = Image.fromarray(np.tile(np.linspace(0, 255, 64).astype(np.uint8), (64, 1))).convert("RGB")
    x = preprocess("minus_one_one", 64)(gradient)
    assert x.min().item() == pytest.approx(-1) and x.max().item() == pytest.approx(1)


def test_center_crop_keeps_aspect_ratio_and_squash_does_not():
    wide = Image.new("RGB", (200, 100))
    wide.paste((255, 0, 0), (0, 0, 50, 100))  # red band on the left quarter
    squashed = preprocess("imagenet", 100)(wide)
    cropped = preprocess("imagenet_crop", 100)(wide)
    assert squashed[0, 50, 10] > 1 and cropped[0, 50, 10] < 0  # the crop cuts the band away


@pytest.mark.parametrize("preset", ["imagenet", "imagenet_crop", "minus_one_one"])
def test_geometry_is_torchvisions_resize_and_crop(preset):
    """The preset's geometry gives what torchvision's v2 transforms give on the image as a tensor."""
    image = Image.fromarray(np.random.default_rng(2).integers(0, 256, (90, 150, 3), dtype=np.uint8))
    steps = {
        "imagenet": [v2.Resize((64, 64), antialias=True)],
        "imagenet_crop": [v2.Resize(73, antialias=True), v2.CenterCrop(64)],
        "minus_one_one": [v2.Resize(64, antialias=True), v2.CenterCrop(64)],
    }[preset]
    expected = v2.Compose([v2.ToImage(), *steps])(image)
    assert torch.equal(geometry(preset, 64)(image), expected)
    assert torch.equal(geometry(preset, 64)(v2.functional.pil_to_tensor(image)), expected)


def test_corrupt_image_is_named(tmp_path, image_files):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(BrainlikeError, match="cannot read image .*broken.jpg"):
        load_images([image_files["RGB"], broken])
    truncated = tmp_path / "truncated.jpg"
    Image.open(image_files["RGB"]).save(truncated, quality=90)
    truncated.write_bytes(truncated.read_bytes()[:400])
    with pytest.raises(BrainlikeError, match="cannot read image .*truncated.jpg"):
        load_images([truncated])
    with pytest.raises(BrainlikeError, match="no image at .*missing.png"):
        load_images([tmp_path / "missing.png"])


def test_unknown_preset():
    with pytest.raises(BrainlikeError, match="unknown preprocessing preset 'imagenette'"):
        preprocess("imagenette", 8)


def test_degrees_and_pixels_round_trip():
    assert degrees_to_pixels(1.0, visual_degrees=8, input_size=224) == 28
    assert pixels_to_degrees(28, visual_degrees=8, input_size=224) == 1.0
