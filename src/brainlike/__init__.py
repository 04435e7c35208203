"""brainlike: brain-like models of the primate visual cortex — build, run, train and measure them."""

from brainlike.errors import BrainlikeError
from brainlike.recording import layer_name, record
from brainlike.registry import Area, ModelCard, create_model, list_models, model_card, register_model
from brainlike.transforms import load_images, preprocess
from brainlike.weights import WeightSpec
from brainlike.wrap import wrap

__version__ = "0.1.0"

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
]
