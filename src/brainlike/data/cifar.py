"""CIFAR-10 and CIFAR-100 from their published python batches (Krizhevsky 2009).

The batches are pickles. They are read with an unpickler that accepts only what the published files
hold (dicts, lists, strings and numpy arrays), so a tampered file cannot run code.

CIFAR-10 folder (`cifar-10-batches-py`): `data_batch_1` … `data_batch_5`, `test_batch`,
`batches.meta`. CIFAR-100 folder (`cifar-100-python`): `train`, `test`, `meta`. Each batch holds
`data` (N x 3072 uint8, the red, green and blue 32 x 32 planes of each image in turn) and its labels.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import torch

from brainlike.data.labeled import LabeledImages
from brainlike.errors import BrainlikeError

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR100_FOLDER = "cifar-100-python"
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_batch(path: Path) -> dict[str, object]:
    """One CIFAR batch or meta file as a dict with str keys (the files hold bytes keys)."""
    if not path.is_file():
        raise BrainlikeError(f"CIFAR file missing: {path}")
    try:
        obj = _BatchUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as error:
        raise BrainlikeError(f"{path} is not a CIFAR python batch ({error})") from None
    if not isinstance(obj, dict):
        raise BrainlikeError(f"{path} is not a CIFAR python batch (holds {type(obj).__name__})")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _names(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


class CifarImages(LabeledImages):
    """Images as uint8 (3, 32, 32) tensors with their labels."""

    def __init__(self, data: np.ndarray, targets: list[int], classes: list[str]):
        self.images = torch.from_numpy(np.ascontiguousarray(data.reshape(-1, 3, 32, 32)))
        self.targets = [int(t) for t in targets]
        self.classes = classes

    def __getitem__(self, index: int):
        return self.images[index], self.targets[index]


def _field(batch: dict, key: str, path: Path):
    if key not in batch:
        raise BrainlikeError(f"{path} has no {key!r} entry; is it a CIFAR batch of the right kind?")
    return batch[key]


def _images(batches: list[Path], label_key: str, classes: list[str]) -> CifarImages:
    data, targets = [], []
    for path in batches:
        batch = read_batch(path)
        array = np.asarray(_field(batch, "data", path))
        labels = list(_field(batch, label_key, path))
        if array.dtype != np.uint8 or array.ndim != 2 or array.shape[1] != 3072 or len(array) != len(labels):
            raise BrainlikeError(
                f"{path}: expected N x 3072 uint8 data with N labels, got "
                f"{array.dtype} {array.shape} and {len(labels)} labels"
            )
        data.append(array)
        targets += labels
    if min(targets) < 0 or max(targets) >= len(classes):
        raise BrainlikeError(f"{batches[0].parent}: labels outside 0..{len(classes) - 1}")
    return CifarImages(np.concatenate(data), targets, classes)


def _folder(root: Path, name: str) -> Path:
    root = Path(root)
    return root / name if (root / name).is_dir() else root


def cifar10(root: str | Path, split: str = "train") -> CifarImages:
    """CIFAR-10 `train` (data_batch_1…5) or `val`/`test` (test_batch) from the python batches folder."""
    folder = _folder(root, CIFAR10_FOLDER)
    classes = _names(_field(read_batch(folder / "batches.meta"), "label_names", folder / "batches.meta"))
    batches = [folder / f"data_batch_{i}" for i in range(1, 6)] if split == "train" else [folder / "test_batch"]
    _check_split(split)
    return _images(batches, "labels", classes)


def cifar100(root: str | Path, split: str = "train", *, coarse: bool = False) -> CifarImages:
    """CIFAR-100 `train` or `val`/`test`, with the 100 fine labels (or the 20 coarse ones)."""
    folder = _folder(root, CIFAR100_FOLDER)
    kind = "coarse" if coarse else "fine"
    meta = read_batch(folder / "meta")
    classes = _names(_field(meta, f"{kind}_label_names", folder / "meta"))
    _check_split(split)
    return _images([folder / ("train" if split == "train" else "test")], f"{kind}_labels", classes)


def _check_split(split: str) -> None:
    if split not in ("train", "val", "test"):
        raise BrainlikeError(f"CIFAR has the splits train and test (val means test), not {split!r}")
