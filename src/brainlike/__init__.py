"""brainlike: brain-like models of the primate visual cortex — build, run, train and measure them.

The public names load on first use (PEP 562), so `import brainlike` and `brainlike --help` import no torch.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_PUBLIC = {
    "Area": "brainlike.registry",
    "BrainlikeError": "brainlike.errors",
    "ModelCard": "brainlike.registry",
    "WeightSpec": "brainlike.weights",
    "create_model": "brainlike.registry",
    "layer_name": "brainlike.recording",
    "list_models": "brainlike.registry",
    "load_images": "brainlike.transforms",
    "model_card": "brainlike.registry",
    "preprocess": "brainlike.transforms",
    "record": "brainlike.recording",
    "register_model": "brainlike.registry",
    "wrap": "brainlike.wrap",
}

__all__ = [
    "Area",
    "BrainlikeError",
    "ModelCard",
    "WeightSpec",
    "create_model",
    "layer_name",
    "list_models",
    "load_images",
    "model_card",
    "preprocess",
    "record",
    "register_model",
    "wrap",
]  # = sorted(_PUBLIC)

if TYPE_CHECKING:  # what static tools and IDEs see
    from brainlike.errors import BrainlikeError
    from brainlike.recording import layer_name, record
    from brainlike.registry import Area, ModelCard, create_model, list_models, model_card, register_model
    from brainlike.transforms import load_images, preprocess
    from brainlike.weights import WeightSpec
    from brainlike.wrap import wrap


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'brainlike' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


class _Package(types.ModuleType):
    """The package module, kept from letting a submodule hide the public function of the same name: importing
    `brainlike.wrap` (the module) would otherwise set `brainlike.wrap` to it instead of the function."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _PUBLIC and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
