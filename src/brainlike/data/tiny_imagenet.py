"""Tiny-ImageNet-200 in its published folder layout (Stanford CS231N, 2015).

    tiny-imagenet-200/wnids.txt                          one WordNet id per line (the 200 classes)
    tiny-imagenet-200/words.txt                          wnid <tab> human-readable names
    tiny-imagenet-200/train/<wnid>/images/<wnid>_<k>.JPEG
    tiny-imagenet-200/val/images/val_<k>.JPEG
    tiny-imagenet-200/val/val_annotations.txt            file <tab> wnid <tab> x0 y0 x1 y1

Labels index the sorted wnids, which is the order ImageFolder gives the train folder. The test split
has no published labels and is not offered.
"""

from __future__ import annotations

from pathlib import Path

from brainlike.data.labeled import ImageFiles, image_files, require_dir
from brainlike.errors import BrainlikeError

FOLDER = "tiny-imagenet-200"


def dataset_root(root: Path) -> Path:
    return root / FOLDER if (root / FOLDER).is_dir() else root


def read_wnids(root: Path) -> list[str]:
    path = root / "wnids.txt"
    if not path.is_file():
        raise BrainlikeError(f"Tiny-ImageNet: {path} is missing")
    wnids = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not wnids or len(set(wnids)) != len(wnids):
        raise BrainlikeError(f"{path} must list distinct WordNet ids, one per line")
    return sorted(wnids)


def read_words(root: Path) -> dict[str, str]:
    """wnid -> readable name, from words.txt when present."""
    path = root / "words.txt"
    if not path.is_file():
        return {}
    words = {}
    for line in path.read_text().splitlines():
        wnid, _, names = line.partition("\t")
        if names:
            words[wnid.strip()] = names.strip()
    return words


def read_val_annotations(path: Path, known: set[str]) -> list[tuple[str, str]]:
    """(file name, wnid) pairs from val_annotations.txt."""
    if not path.is_file():
        raise BrainlikeError(f"Tiny-ImageNet: {path} is missing (the validation labels)")
    pairs = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2 or fields[1] not in known:
            raise BrainlikeError(f"{path}:{number}: expected 'file<TAB>wnid<TAB>box', with a wnid from wnids.txt")
        pairs.append((fields[0], fields[1]))
    return pairs


def tiny_imagenet(root: str | Path, split: str = "train", *, skip_bad: bool = False) -> ImageFiles:
    """The `train` or `val` split of Tiny-ImageNet-200."""
    root = dataset_root(Path(root))
    wnids = read_wnids(root)
    label = {wnid: i for i, wnid in enumerate(wnids)}
    words = read_words(root)
    classes = [words.get(w, w).split(",")[0] for w in wnids]
    files, targets = [], []
    if split == "train":
        train = require_dir(root / "train", "Tiny-ImageNet")
        for wnid in wnids:
            found = image_files(require_dir(train / wnid / "images", "Tiny-ImageNet train class"))
            files += found
            targets += [label[wnid]] * len(found)
    elif split in ("val", "test"):
        val = require_dir(root / "val", "Tiny-ImageNet")
        for name, wnid in read_val_annotations(val / "val_annotations.txt", set(wnids)):
            files.append(val / "images" / name)
            targets.append(label[wnid])
    else:
        raise BrainlikeError(f"Tiny-ImageNet has the labelled splits train and val, not {split!r}")
    if not files:
        raise BrainlikeError(f"Tiny-ImageNet at {root}: the {split} split holds no images")
    dataset = ImageFiles(files, targets, classes, skip_bad=skip_bad)
    dataset.wnids = wnids
    return dataset
