"""Tiny datasets written in their published layouts, for the loader and trainer tests."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from PIL import Image


def write_png(path: Path, seed: int, size: int = 12) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def image_folder(root: Path, classes=("cat", "dog"), per_class: int = 3, splits=("train", "val")) -> Path:
    for s, split in enumerate(splits):
        for c, name in enumerate(classes):
            for k in range(per_class):
                write_png(root / split / name / f"{name}_{k}.png", 100 * s + 10 * c + k)
    return root


def _pickle(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Protocol 2 and bytes keys, as in the published files (written by Python 2's cPickle).
    path.write_bytes(pickle.dumps(obj, protocol=2))


def cifar10(root: Path, per_batch: int = 4) -> Path:
    folder = root / "cifar-10-batches-py"
    rng = np.random.default_rng(0)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    _pickle(folder / "batches.meta", {b"label_names": names, b"num_cases_per_batch": per_batch, b"num_vis": 3072})
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        _pickle(
            folder / name,
            {
                b"batch_label": name.encode(),
                b"labels": [(i + k) % 10 for k in range(per_batch)],
                b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                b"filenames": [f"{name}_{k}.png".encode() for k in range(per_batch)],
            },
        )
    return root


def cifar100(root: Path, n: int = 6) -> Path:
    folder = root / "cifar-100-python"
    rng = np.random.default_rng(1)
    _pickle(
        folder / "meta",
        {
            b"fine_label_names": [f"fine{k}".encode() for k in range(100)],
            b"coarse_label_names": [f"coarse{k}".encode() for k in range(20)],
        },
    )
    for split in ("train", "test"):
        _pickle(
            folder / split,
            {
                b"filenames": [b"x.png"] * n,
                b"batch_label": split.encode(),
                b"fine_labels": [97, 3, 50, 0, 99, 1][:n],
                b"coarse_labels": [19, 0, 5, 1, 2, 3][:n],
                b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            },
        )
    return root


def tiny_imagenet(root: Path) -> Path:
    folder = root / "tiny-imagenet-200"
    wnids = ["n02124075", "n01443537", "n09256479"]
    folder.mkdir(parents=True)
    (folder / "wnids.txt").write_text("\n".join(wnids) + "\n")
    (folder / "words.txt").write_text(
        "n01443537\tgoldfish, Carassius auratus\nn02124075\tEgyptian cat\nn09256479\tcoral reef\nn00000001\tunused\n"
    )
    for c, wnid in enumerate(wnids):
        for k in range(2):
            write_png(folder / "train" / wnid / "images" / f"{wnid}_{k}.JPEG", 10 * c + k, size=64)
        (folder / "train" / wnid / f"{wnid}_boxes.txt").write_text("")
    lines = []
    for k, wnid in enumerate(["n09256479", "n01443537", "n02124075", "n01443537"]):
        write_png(folder / "val" / "images" / f"val_{k}.JPEG", 50 + k, size=64)
        lines.append(f"val_{k}.JPEG\t{wnid}\t0\t0\t63\t63")
    (folder / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return root
