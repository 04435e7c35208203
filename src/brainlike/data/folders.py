"""Image folders in the ImageNet / Ecoset layout: `<root>/<split>/<class>/<image>`.

Classes are the sorted sub-folder names of the split (as torchvision's ImageFolder does), so the
label indices of `train` and `val` agree whenever both hold the same classes.
"""

from __future__ import annotations

from pathlib import Path

from brainlike.data.labeled import ImageFiles, image_files, require_dir
from brainlike.errors import BrainlikeError


def image_folder(root: str | Path, split: str = "train", *, skip_bad: bool = False) -> ImageFiles:
    """The `split` of an image-folder dataset (`train/<class>/…`, `val/<class>/…`)."""
    root = Path(root)
    folder = require_dir(root / split, f"image-folder dataset {root}")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise BrainlikeError(f"{folder} has no class sub-folders (expected {folder}/<class>/<image files>)")
    files, targets = [], []
    for label, name in enumerate(classes):
        found = image_files(folder / name)
        files += found
        targets += [label] * len(found)
    if not files:
        raise BrainlikeError(f"{folder} has class folders but no image files in them")
    return ImageFiles(files, targets, classes, skip_bad=skip_bad)
