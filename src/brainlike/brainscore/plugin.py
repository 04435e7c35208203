"""brainlike models as Brain-Score model plugins.

Brain-Score finds a model plugin by reading the `__init__.py` of every folder in
`brainscore_vision/models/` for a literal line `model_registry['<identifier>'] = ...`, imports that folder
and calls the registered function (`brainscore_vision.load_model`). `write_plugin` writes such a folder
(one line per model, and a requirements.txt naming brainlike): put it into `brainscore_vision/models/` of a
Brain-Score checkout to submit, or let `install_plugin` put it into the installed brainscore_vision for
local use. `register_models` fills `brainscore_vision.model_registry` directly, for code that reads the
registry without `load_model`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterable

from brainlike.errors import BrainlikeError
from brainlike.reports import write_atomic

PREFIX = "brainlike-"


def plugin_identifier(name: str) -> str:
    """Brain-Score's identifier for a brainlike model: "brainlike-cornet_s"."""
    return PREFIX + name


def _check_names(names: Iterable[str]) -> list[str]:
    from brainlike.registry import model_card

    names = list(names)
    if not names:
        raise BrainlikeError("no models named for the Brain-Score plugin")
    for name in names:
        if not re.fullmatch(r"[\w.:\-]+", name):
            raise BrainlikeError(f"{name!r} cannot be a Brain-Score model identifier")
        model_card(name)  # an unknown name fails here, with brainlike's suggestions
    return names


def register_models(names: Iterable[str], *, pretrained: bool | str = True, **adapter) -> list[str]:
    """Put `brainlike-<name>` into `brainscore_vision.model_registry` for each name (built when loaded)."""
    try:
        from brainscore_vision import model_registry
    except ImportError:
        raise BrainlikeError("registering models with Brain-Score needs brainscore-vision installed") from None
    from brainlike.brainscore.model import BrainScoreModel

    def loader(name: str) -> Callable:
        return lambda: BrainScoreModel(name, pretrained=pretrained, identifier=plugin_identifier(name), **adapter)

    identifiers = []
    for name in _check_names(names):
        model_registry[plugin_identifier(name)] = loader(name)
        identifiers.append(plugin_identifier(name))
    return identifiers


def plugin_source(names: Iterable[str], *, pretrained: bool | str = True) -> str:
    """The `__init__.py` of a Brain-Score model plugin for `names`."""
    lines = [
        '"""brainlike models for Brain-Score, written by brainlike.brainscore.write_plugin."""',
        "",
        "from brainscore_vision import model_registry",
        "",
        "from brainlike.brainscore import BrainScoreModel",
        "",
    ]
    for name in _check_names(names):
        identifier = plugin_identifier(name)
        lines.append(
            f"model_registry[{identifier!r}] = lambda: BrainScoreModel("
            f"{name!r}, pretrained={pretrained!r}, identifier={identifier!r})"
        )
    return "\n".join(lines) + "\n"


def write_plugin(folder: str | Path, names: Iterable[str], *, pretrained: bool | str = True) -> Path:
    """Write a Brain-Score model plugin folder (`__init__.py`, `requirements.txt`) registering `names`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "__init__.py", plugin_source(names, pretrained=pretrained))
    write_atomic(folder / "requirements.txt", "brainlike\n")
    return folder


def install_plugin(names: Iterable[str], *, pretrained: bool | str = True, folder: str = "brainlike") -> Path:
    """Write the plugin into the installed brainscore_vision's models folder, so `load_model` finds it."""
    try:
        import brainscore_vision.models as plugins
    except ImportError:
        raise BrainlikeError("installing a Brain-Score plugin needs brainscore-vision installed") from None
    return write_plugin(Path(plugins.__file__).parent / folder, names, pretrained=pretrained)
