"""Per-area, per-time-step features of many images, streamed to HDF5 and read back as xarray.

`extract_features` decodes and transforms images in a DataLoader and writes them from a background
thread, so both overlap the forward pass; a bounded queue keeps memory flat however many images there
are, and an interrupted extraction resumes where it stopped. The file layout is in `store`.

    stimuli    which images, under which ids; the Dataset that decodes them
    store      the HDF5 schema, the checks before resuming, the writer
    sharding   torchrun: one shard per rank, merged by rank 0
    extract    extract_features
    readers    load_features, load_layer, feature_layers, stimulus_ids, skipped_stimuli
"""

from brainlike.analysis.features.extract import PRECISIONS, extract_features
from brainlike.analysis.features.readers import (
    feature_layers,
    load_features,
    load_layer,
    skipped_stimuli,
    stimulus_ids,
    unit_coordinates,
)
from brainlike.analysis.features.sharding import merge_features
from brainlike.analysis.features.stimuli import list_stimuli
from brainlike.analysis.features.store import FORMAT, open_features

__all__ = [
    "FORMAT",
    "PRECISIONS",
    "extract_features",
    "feature_layers",
    "list_stimuli",
    "load_features",
    "load_layer",
    "merge_features",
    "open_features",
    "skipped_stimuli",
    "stimulus_ids",
    "unit_coordinates",
]
