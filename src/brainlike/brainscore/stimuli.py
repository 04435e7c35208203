"""What the adapter reads of the stimuli Brain-Score hands it: a StimulusSet or a list of image paths."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from brainlike.errors import BrainlikeError


def stimulus_files(stimuli) -> tuple[list[str], list[str]]:
    """(ids, paths) of a Brain-Score StimulusSet (stimulus_id column + get_stimulus) or a list of paths."""
    if hasattr(stimuli, "get_stimulus"):
        if "stimulus_id" not in stimuli.columns:
            raise BrainlikeError("the StimulusSet has no stimulus_id column")
        ids = [str(i) for i in stimuli["stimulus_id"]]
        return ids, [str(stimuli.get_stimulus(i)) for i in stimuli["stimulus_id"]]
    if isinstance(stimuli, (str, os.PathLike)):
        stimuli = [stimuli]
    paths = [str(Path(p)) for p in stimuli]
    return paths, paths


def presentation_coords(stimuli, ids: list[str], paths: list[str]) -> dict[str, tuple[str, np.ndarray]]:
    """Every StimulusSet column as a `presentation` coordinate (Brain-Score's metrics stratify and split on
    them: object_name, image_label, ...), with stimulus_id and stimulus_path always present."""
    coords = {"stimulus_id": ("presentation", np.array(ids, dtype=object))}
    if hasattr(stimuli, "columns"):
        for column in stimuli.columns:
            if column == "stimulus_id":
                continue
            values = np.asarray(stimuli[column].values)
            if values.dtype.kind == "U":
                values = values.astype(object)
            coords[str(column)] = ("presentation", values)
    coords.setdefault("stimulus_path", ("presentation", np.array(paths, dtype=object)))
    return coords
