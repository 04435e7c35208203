"""Corrupted datasets in the published ImageNet-C / Tiny-ImageNet-C layout (Hendrycks & Dietterich 2019):

    <root>/<corruption>/<severity>/<class>/<image>        e.g. ImageNet-C/fog/3/n01440764/ILSVRC2012_val_….JPEG

The downloads are one archive per corruption family (noise, blur, weather, digital), so a root that
keeps a family folder above the corruptions (`<root>/weather/fog/3/…`) is read too. Class folders are
WordNet ids; labels are given by the clean dataset's classes (its wnids for Tiny-ImageNet), so a
corrupted image gets the label its clean original has. The published images are already cropped to the
benchmark's size (224 px, 64 px for Tiny-ImageNet-C): read them with a squashing geometry
(`SQUASH_PRESET`), which leaves them unchanged at that size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from brainlike.data.labeled import ImageFiles, image_files
from brainlike.errors import BrainlikeError

FAMILIES = ("noise", "blur", "weather", "digital", "extra")
SQUASH_PRESET = "imagenet"  # its geometry only resizes to size x size (the identity at the published size)


def dataset_class_names(dataset) -> list[str] | None:
    """The folder names a dataset's labels stand for: Tiny-ImageNet's wnids, else its classes."""
    return getattr(dataset, "wnids", None) or getattr(dataset, "classes", None)


def corruption_folder(root: str | Path, corruption: str) -> Path:
    """`<root>/<corruption>` or `<root>/<family>/<corruption>`."""
    root = Path(root)
    if not root.is_dir():
        raise BrainlikeError(f"no corrupted dataset at {root} (expected <root>/<corruption>/<severity>/<class>/…)")
    for candidate in [root / corruption] + [root / family / corruption for family in FAMILIES]:
        if candidate.is_dir():
            return candidate
    raise BrainlikeError(
        f"corrupted dataset {root} has no {corruption} folder (expected {root / corruption}/<severity>/<class>/…)"
    )


def check_corrupted_layout(root: str | Path, corruptions: Iterable[str], severities: Iterable[int]) -> None:
    """Fail before a long run if any requested corruption or severity folder is missing."""
    severities = list(severities)
    for corruption in corruptions:
        folder = corruption_folder(root, corruption)
        missing = [s for s in severities if not (folder / str(s)).is_dir()]
        if missing:
            found = sorted(p.name for p in folder.iterdir() if p.is_dir())
            raise BrainlikeError(
                f"{folder} has no severity folder {', '.join(map(str, missing))} (found: {', '.join(found) or 'none'})"
            )


def corrupted_folder(
    root: str | Path, corruption: str, severity: int, *, classes: Sequence[str] | None = None, skip_bad: bool = False
) -> ImageFiles:
    """The images of one (corruption, severity) cell, labelled by `classes` (default: the sorted class
    folders, as ImageFolder does)."""
    folder = corruption_folder(root, corruption) / str(severity)
    if not folder.is_dir():
        raise BrainlikeError(f"no severity {severity} of {corruption}: {folder} is missing")
    found = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not found:
        raise BrainlikeError(f"{folder} has no class folders (expected {folder}/<class>/<image files>)")
    names = list(classes) if classes is not None else found
    label = {name: i for i, name in enumerate(names)}
    unknown = [name for name in found if name not in label]
    if unknown:
        raise BrainlikeError(
            f"{folder}: class folder {unknown[0]!r} is not a class of the clean dataset "
            f"({len(unknown)} unknown of {len(found)}); the corrupted and clean datasets must share classes"
        )
    files, targets = [], []
    for name in found:
        images = image_files(folder / name)
        files += images
        targets += [label[name]] * len(images)
    if not files:
        raise BrainlikeError(f"{folder} has class folders but no image files in them")
    return ImageFiles(files, targets, names, skip_bad=skip_bad)
