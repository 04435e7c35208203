"""Every dataset loader on a tiny fixture in its published layout, and clear errors for bad ones."""

import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from brainlike.data import dataset_kind, open_dataset
from brainlike.data.cifar import read_batch
from brainlike.errors import BrainlikeError
from brainlike.runtime.batches import Collate, Transformed, eval_transform
from brainlike.transforms import preprocess
from tests.data import fixtures


def test_image_folder(tmp_path):
    root = fixtures.image_folder(tmp_path / "imgs", classes=("dog", "cat"), per_class=2)
    assert dataset_kind(root) == "folder"
    train = open_dataset(root, "train")
    assert train.classes == ["cat", "dog"] and train.targets == [0, 0, 1, 1]
    image, label = train[3]
    assert image.size == (12, 12) and image.mode == "RGB" and label == 1
    assert train.files[3].name == "dog_1.png"


def test_cifar10_python_batches(tmp_path):
    root = fixtures.cifar10(tmp_path)
    assert dataset_kind(root) == "cifar10" and dataset_kind(root / "cifar-10-batches-py") == "cifar10"
    train, test = open_dataset(root, "train"), open_dataset(root, "val")
    assert len(train) == 20 and len(test) == 4 and train.classes[0] == "airplane" and train.num_classes == 10
    assert train.targets[:4] == [0, 1, 2, 3] and test.targets == [5, 6, 7, 8]
    # Row layout: 1024 red, then 1024 green, then 1024 blue values of a 32 x 32 image.
    raw = read_batch(root / "cifar-10-batches-py" / "data_batch_1")["data"]
    image, _ = train[1]
    assert image.dtype == torch.uint8 and image.shape == (3, 32, 32)
    assert image[1, 2, 5].item() == raw[1][1024 + 2 * 32 + 5]


def test_cifar100_fine_and_coarse(tmp_path):
    root = fixtures.cifar100(tmp_path)
    assert dataset_kind(root) == "cifar100"
    train = open_dataset(root, "train")
    assert train.num_classes == 100 and train.targets == [97, 3, 50, 0, 99, 1] and train.classes[97] == "fine97"
    from brainlike.data.cifar import cifar100

    assert cifar100(root, "test", coarse=True).targets[0] == 19


def test_cifar_refuses_pickles_that_run_code(tmp_path):
    folder = fixtures.cifar10(tmp_path) / "cifar-10-batches-py"

    class Exploit:
        def __reduce__(self):
            return (print, ("pwned",))

    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Exploit()}, protocol=2))
    with pytest.raises(BrainlikeError, match="test_batch.*refusing to load .*print"):
        open_dataset(tmp_path, "val")


def test_tiny_imagenet_layout(tmp_path):
    root = fixtures.tiny_imagenet(tmp_path)
    assert dataset_kind(root) == "tiny_imagenet"
    train, val = open_dataset(root, "train"), open_dataset(root, "val")
    # Labels index the sorted wnids; names come from words.txt.
    assert train.wnids == ["n01443537", "n02124075", "n09256479"]
    assert train.classes == ["goldfish", "Egyptian cat", "coral reef"]
    assert train.targets == [0, 0, 1, 1, 2, 2] and train.files[0].name == "n01443537_0.JPEG"
    assert val.targets == [2, 0, 1, 0] and val.files[0].name == "val_0.JPEG"
    assert val[0][0].size == (64, 64)


def test_tiny_imagenet_bad_annotation(tmp_path):
    root = fixtures.tiny_imagenet(tmp_path)
    (root / "tiny-imagenet-200" / "val" / "val_annotations.txt").write_text("val_0.JPEG\tn99999999\t0 0 1 1\n")
    with pytest.raises(BrainlikeError, match=r"val_annotations.txt:1"):
        open_dataset(root, "val")


def test_digits_are_the_real_upsampled_digits():
    from sklearn.datasets import load_digits

    train, val = open_dataset("digits", "train"), open_dataset("digits", "val", digits_size=16)
    assert (len(train), len(val)) == (1437, 360) and train.num_classes == 10
    assert val[0][0].shape == (3, 16, 16) and train[0][0].shape == (3, 32, 32)
    bunch = load_digits()
    assert val.targets[:5] == bunch.target[0:25:5].tolist() and train.targets[0] == bunch.target[1]
    # A 4 x 4 block average of the upsampled image comes back close to the 8 x 8 original.
    pooled = torch.nn.functional.avg_pool2d(train[0][0][:1].float()[None], 4)[0, 0] / 255 * 16
    assert np.abs(pooled.numpy() - bunch.images[1]).mean() < 1.5


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "no dataset at"),
        (lambda p: (p / "x.txt").write_text("") or p / "x.txt", "is a file"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "not a dataset folder"),
        (lambda p: (p / "a" / "train").mkdir(parents=True) or p / "a", "no class sub-folders"),
    ],
)
def test_malformed_dataset_folders(tmp_path, make, message):
    with pytest.raises(BrainlikeError, match=message):
        open_dataset(make(tmp_path), "train")


def test_missing_cifar_batch_is_named(tmp_path):
    fixtures.cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(BrainlikeError, match="data_batch_3"):
        open_dataset(tmp_path, "train")


def test_corrupt_image_is_named_and_skipped_only_on_request(tmp_path):
    root = fixtures.image_folder(tmp_path / "imgs", per_class=2)
    (root / "train" / "cat" / "broken.jpg").write_bytes(b"not really a jpeg")
    dataset = open_dataset(root, "train")
    bad = [i for i, f in enumerate(dataset.files) if f.name == "broken.jpg"][0]
    with pytest.raises(BrainlikeError, match="broken.jpg.*--skip-bad"):
        dataset[bad]
    skipping = open_dataset(root, "train", skip_bad=True)
    data = Transformed(skipping, eval_transform("squash", size=8), random=False)
    with pytest.warns(UserWarning, match="broken.jpg"):
        batch = Collate("half")([data[(0, i)] for i in range(len(data))])
    assert batch[0].shape == (4, 3, 8, 8) and batch[1].tolist() == [0, 0, 1, 1]


def test_batched_normalisation_matches_the_per_image_preset():
    images = [Image.fromarray(np.random.default_rng(i).integers(0, 256, (40, 50, 3), dtype=np.uint8)) for i in range(3)]
    data = Transformed([(image, 7) for image in images], eval_transform("resize_center_crop", size=16), random=False)
    batch, labels = Collate("imagenet_crop")([data[(0, i)] for i in range(3)])
    expected = torch.stack([preprocess("imagenet_crop", 16)(image) for image in images])
    assert batch.dtype == torch.float32 and labels.tolist() == [7, 7, 7]
    torch.testing.assert_close(batch, expected, rtol=0, atol=1e-6)
