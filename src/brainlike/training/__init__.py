"""Training: recipes, the trainer (checkpoints, exact resume, DDP). Evaluation is in `brainlike.runtime`."""

from brainlike.training.recipes import Recipe, available_recipes, load_recipe, recipe_for_model
from brainlike.training.run import train
from brainlike.training.trainer import Trainer, TrainResult

__all__ = ["Recipe", "TrainResult", "Trainer", "available_recipes", "load_recipe", "recipe_for_model", "train"]
