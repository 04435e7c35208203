"""The Geirhos et al. (2019) cue-conflict, edge and silhouette experiments: trials, categories, stimuli.

Shipped in `brainlike/data/geirhos2019` (its SOURCES.md has the citation and licences): the trial files
of 10 human observers and three ImageNet CNNs per experiment, the 16-category ImageNet mapping, and a
manifest of the 1,600 stimuli (sha256, bytes, URL pinned to a commit of rgeirhos/texture-vs-shape).
The stimuli (CC BY 4.0) are downloaded on first use into `$BRAINLIKE_HOME/geirhos2019` (the layout of
the source repository: `stimuli/<set>/<shape category>/<file>.png`), every file checked against its
sha256, or read from a folder the user gives. A stimulus is named by its path inside its set, for
example `bird/bird3-clock2.png` (shape bird, texture clock).
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from tqdm import tqdm

from brainlike.downloads import DownloadError, brainlike_home, download, sha256_of
from brainlike.errors import BrainlikeError

if TYPE_CHECKING:
    import pandas as pd

CITATION = (
    "Geirhos R, Rubisch P, Michaelis C, Bethge M, Wichmann FA, Brendel W (2019). ImageNet-trained CNNs are "
    "biased towards texture; increasing shape bias improves accuracy and robustness. ICLR 2019."
)
HUMANS = tuple(f"subject-{i:02d}" for i in range(1, 11))
CNNS = ("alexnet", "googlenet", "vgg")
OBSERVERS = HUMANS + CNNS
NO_RESPONSE = "na"  # a human trial without an answer in time
COLUMNS = ("observer", "image", "shape", "texture", "response", "rt")
DOWNLOAD_THREADS = 8
_CUE_CONFLICT = re.compile(r"(?P<shape>[a-z]+)\d+-(?P<texture>[a-z]+)\d+\.png")
_SINGLE = re.compile(r"(?P<shape>[a-z]+)\d+\.png")


@dataclass(frozen=True)
class Experiment:
    name: str
    responses: str  # folder and file prefix of its trial files
    stimulus_set: str  # folder of its stimuli in the source repository's stimuli/


EXPERIMENTS = {
    e.name: e
    for e in (
        Experiment("cue-conflict", "style-transfer-512-nomask-experiment", "style-transfer-preprocessed-512"),
        Experiment("edges", "edge-experiment", "edges"),
        Experiment("silhouettes", "silhouette-filled-experiment", "filled-silhouettes"),
    )
}


def experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise BrainlikeError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)} (or all)")
    return EXPERIMENTS[name]


def experiment_names(names: str | Iterable[str]) -> list[str]:
    """Checked experiment names; "all" stands for the three."""
    names = [names] if isinstance(names, str) else list(names)
    expanded = list(EXPERIMENTS) if "all" in names else names
    return [experiment(n).name for n in dict.fromkeys(expanded)]


def _data():
    return resources.files("brainlike") / "data" / "geirhos2019"


@lru_cache(maxsize=None)
def categories16() -> dict[str, tuple[int, ...]]:
    """The 16 categories (sorted) with their ILSVRC-2012 class indices, as the authors listed them."""
    table = json.loads((_data() / "categories16.json").read_text())
    return {name: tuple(table[name]["imagenet_indices"]) for name in sorted(table)}


def categories() -> tuple[str, ...]:
    return tuple(categories16())


def parse_image(image: str) -> tuple[str, str]:
    """(shape, texture) of a stimulus named `category/file.png`; texture is the shape outside cue conflict."""
    folder, _, file_name = image.rpartition("/")
    match = _CUE_CONFLICT.fullmatch(file_name) or _SINGLE.fullmatch(file_name)
    if match is None or match["shape"] != folder:
        raise BrainlikeError(f"{image!r} is not a stimulus name of the form category/<category><i>[-<texture><j>].png")
    groups = match.groupdict()
    return groups["shape"], groups.get("texture") or groups["shape"]


@lru_cache(maxsize=None)
def _responses(name: str):
    import pandas as pd

    spec = experiment(name)
    frames = []
    for observer in OBSERVERS:
        resource = _data() / "responses" / spec.responses / f"{spec.responses}_{observer}_session_1.csv"
        with resources.as_file(resource) as path:
            raw = pd.read_csv(path)
        image = raw["category"] + "/" + raw["imagename"].str.rsplit("_", n=1).str[-1]
        parsed = [parse_image(i) for i in image]
        frames.append(
            pd.DataFrame(
                {
                    "observer": observer,
                    "image": image,
                    "shape": [s for s, _ in parsed],
                    "texture": [t for _, t in parsed],
                    "response": raw["object_response"].astype(str),
                    "rt": raw["rt"].astype(float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def load_responses(experiment: str) -> pd.DataFrame:
    """The published trials of `experiment` ("cue-conflict", "edges" or "silhouettes"), one row each.

    Columns `observer` (subject-01 … subject-10, alexnet, googlenet, vgg, as the files name them),
    `image` (e.g. `bird/bird3-clock2.png`), `shape` (the correct answer), `texture` (the texture
    category of a cue-conflict image; the shape elsewhere), `response` (one of the 16 categories, or
    "na" where a human gave none in time) and `rt` (a human's reaction time in seconds; NaN for CNNs).
    """
    return _responses(experiment_names(experiment)[0]).copy()


@lru_cache(maxsize=None)
def _manifest() -> dict:
    return json.loads((_data() / "stimuli_manifest.json").read_text())


def stimulus_entries(experiment_name: str) -> dict[str, dict]:
    """Manifest entries (path, sha256, bytes, url) of an experiment's stimuli, by stimulus name, sorted."""
    prefix = f"stimuli/{experiment(experiment_name).stimulus_set}/"
    entries = {f["path"][len(prefix) :]: f for f in _manifest()["files"] if f["path"].startswith(prefix)}
    return dict(sorted(entries.items()))


def stimuli_cache() -> Path:
    """Where downloaded stimuli live: `$BRAINLIKE_HOME/geirhos2019` (the source repository's layout)."""
    return brainlike_home() / "geirhos2019"


def sample_stimuli() -> Path:
    """A folder of 16 shipped cue-conflict stimuli (one per shape category; see SOURCES.md)."""
    return Path(str(_data() / "sample"))


@dataclass(frozen=True)
class StimulusFiles:
    """The files of the wanted stimuli that could be found (by stimulus name) and the names of the others."""

    folder: Path
    files: dict[str, Path]
    missing: tuple[str, ...]


def set_folder(experiment_name: str, root: str | os.PathLike) -> Path:
    """The folder of an experiment's stimulus set inside `root`: `root/stimuli/<set>` (a copy of the source
    repository), `root/<set>` (of its stimuli folder), or `root` itself when it holds category folders."""
    name, root = experiment(experiment_name).stimulus_set, Path(root)
    if not root.is_dir():
        raise BrainlikeError(f"no stimulus folder at {root}")
    for candidate in (root / "stimuli" / name, root / name):
        if candidate.is_dir():
            return candidate
    if any((root / c).is_dir() for c in categories()):
        return root
    raise BrainlikeError(
        f"{root} holds no {experiment_name} stimuli: expected {root}/{name}/<category>/<file>.png "
        f"or {root}/<category>/<file>.png"
    )


def stimulus_files(
    experiment_name: str,
    stimuli: str | os.PathLike | None = None,
    *,
    images: Sequence[str] | None = None,
    download: bool = True,
    mirror: str | None = None,
    progress: bool = True,
) -> StimulusFiles:
    """The files of an experiment's stimuli (all, or the named `images`).

    stimuli: a local folder (see `set_folder`); the stimuli found there are used as they are, and the
    others are reported missing. Without it the download cache is used, fetching what it lacks.
    """
    entries = stimulus_entries(experiment_name)
    wanted = list(entries) if images is None else list(dict.fromkeys(images))
    unknown = [i for i in wanted if i not in entries]
    if unknown:
        raise BrainlikeError(f"not {experiment_name} stimuli: {', '.join(unknown[:5])}")
    if stimuli is not None:
        folder = set_folder(experiment_name, stimuli)
        files = {i: folder / i for i in wanted if (folder / i).is_file()}
        if not files:
            raise BrainlikeError(f"none of the {len(wanted)} wanted {experiment_name} stimuli are in {folder}")
        return StimulusFiles(folder, files, tuple(i for i in wanted if i not in files))
    folder = fetch_stimuli(experiment_name, images=wanted, download=download, mirror=mirror, progress=progress)
    return StimulusFiles(folder, {i: folder / i for i in wanted}, ())


def fetch_stimuli(
    experiment_name: str,
    *,
    images: Sequence[str] | None = None,
    download: bool = True,
    mirror: str | None = None,
    progress: bool = True,
) -> Path:
    """Bring an experiment's stimuli (all, or the named `images`) into the cache; returns its set folder.

    Files already there are checked against their sha256; missing or damaged ones are downloaded
    (several at a time, each resumable, hash-checked and renamed into place only when complete).
    mirror: a base URL holding the source repository's files (`<mirror>/stimuli/<set>/...`) in place
    of the pinned GitHub URLs.
    """
    spec = experiment(experiment_name)
    entries = stimulus_entries(experiment_name)
    folder = stimuli_cache() / "stimuli" / spec.stimulus_set
    wanted = list(entries) if images is None else list(images)
    todo = [i for i in wanted if not _intact(folder / i, entries[i]["sha256"])]
    if todo and not download:
        raise BrainlikeError(
            f"{len(todo)} {experiment_name} stimuli are not in {folder}; allow downloads or give a local folder"
        )
    if not todo:
        return folder
    with ThreadPoolExecutor(DOWNLOAD_THREADS) as pool:
        jobs = [pool.submit(_fetch_one, entries[i], folder / i, mirror) for i in todo]
        try:
            with tqdm(total=len(todo), unit="file", desc=f"{experiment_name} stimuli", disable=not progress) as bar:
                for job in as_completed(jobs):
                    job.result()
                    bar.update(1)
        except BaseException as error:
            pool.shutdown(wait=False, cancel_futures=True)  # the first failure ends the download
            if not isinstance(error, DownloadError):
                raise
            raise BrainlikeError(
                f"could not download the {experiment_name} stimuli ({error.reason}; e.g. {error.url}); offline, copy "
                f"the folder stimuli/{spec.stimulus_set} of {_manifest()['repository']} (commit "
                f"{_manifest()['commit'][:12]}) to {folder}, or pass a local folder (stimuli=, --stimuli)"
            ) from None
    return folder


def _intact(path: Path, sha256: str) -> bool:
    if not path.is_file():
        return False
    if sha256_of(path) == sha256:
        return True
    path.unlink()  # damaged: download it again
    return False


def _fetch_one(entry: dict, dest: Path, mirror: str | None) -> None:
    url = entry["url"] if mirror is None else f"{mirror.rstrip('/')}/{entry['path']}"
    download(url, dest, entry["sha256"], progress=False)
