"""The images of an extraction: which files, in which order, under which ids, and how they are decoded."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Sequence

import torch
from torch.utils.data import Dataset, get_worker_info

from brainlike.data.labeled import IMAGE_SUFFIXES
from brainlike.errors import BrainlikeError
from brainlike.transforms import geometry, load_image


def _folder_images(folder: Path) -> tuple[list[str], list[Path]]:
    paths = sorted(
        (p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    if not paths:
        raise BrainlikeError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) under {folder}")
    return [p.relative_to(folder).as_posix() for p in paths], paths


def _listed_images(listing: Path) -> tuple[list[str], list[Path]]:
    lines = [line.strip() for line in listing.read_text().splitlines()]
    ids = [line for line in lines if line and not line.startswith("#")]
    return ids, [Path(i) if Path(i).is_absolute() else listing.parent / i for i in ids]


def list_stimuli(stimuli: str | os.PathLike | Sequence[str | os.PathLike]) -> tuple[list[str], list[Path]]:
    """(ids, paths) of the images to extract.

    A folder is searched recursively and sorted; ids are the paths relative to it. A text file lists
    one path per line (blank lines and lines starting with '#' are skipped; relative paths are relative
    to the text file); ids are the lines as written. A sequence of paths uses the paths as ids.
    """
    if isinstance(stimuli, (str, os.PathLike)):
        source = Path(stimuli)
        if source.is_dir():
            ids, paths = _folder_images(source)
        elif source.is_file():
            ids, paths = _listed_images(source)
        else:
            raise BrainlikeError(f"{source} is neither a folder of images nor a text file of image paths")
    else:
        ids, paths = [str(p) for p in stimuli], [Path(p) for p in stimuli]
    if not ids:
        raise BrainlikeError("no stimuli given")
    if len(set(ids)) != len(ids):
        twice = [i for i, n in Counter(ids).items() if n > 1]
        raise BrainlikeError(f"stimulus ids must be unique; repeated: {', '.join(twice[:5])}")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise BrainlikeError(f"{len(missing)} image file(s) not found, e.g. {missing[0]}")
    return ids, paths


class ImageFiles(Dataset):
    """Decoded images resized and cropped for the model, as uint8 (normalised per batch by the reader:
    a quarter of the bytes between processes, and one pass per batch); a file that cannot be read comes
    back as an error message."""

    def __init__(self, paths: Sequence[Path], preset: str, size: int, start: int = 0):
        self.paths, self.start, self.size = list(paths), start, size
        self.transform = geometry(preset, size)  # a partial of a module function: pickles to workers

    def __len__(self) -> int:
        return len(self.paths) - self.start

    def __getitem__(self, index: int):
        try:
            return self.transform(load_image(self.paths[self.start + index])), ""
        except BrainlikeError as error:
            return torch.zeros(3, self.size, self.size, dtype=torch.uint8), str(error)


def collate_images(items: list[tuple[torch.Tensor, str]], memory_format: torch.memory_format = torch.contiguous_format):
    """Stack decoded images into one uint8 batch in `memory_format` (channels-last copies PIL's pixel order
    as is), in shared memory when built in a worker process, as PyTorch's default collate does."""
    images, errors = zip(*items)
    batch = torch.empty((len(images), *images[0].shape), dtype=torch.uint8, memory_format=memory_format)
    if get_worker_info() is not None:
        batch.share_memory_()
    for row, image in zip(batch, images):
        row.copy_(image)
    return batch, list(errors)
