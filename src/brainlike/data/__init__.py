"""Datasets (local files only) and embedded data."""

from brainlike.data.datasets import dataset_kind, has_split, open_dataset
from brainlike.data.labeled import LabeledImages

__all__ = ["LabeledImages", "dataset_kind", "has_split", "open_dataset"]
