"""Training and evaluation: recipes, the trainer (checkpoints, exact resume, DDP), per-step accuracy."""

from brainlike.training.evaluation import Evaluation, evaluate, evaluate_model
from brainlike.training.recipes import Recipe, available_recipes, load_recipe, recipe_for_model
from brainlike.training.trainer import Trainer, TrainResult, train

__all__ = [
    "Evaluation",
    "Recipe",
    "TrainResult",
    "Trainer",
    "available_recipes",
    "evaluate",
    "evaluate_model",
    "load_recipe",
    "recipe_for_model",
    "train",
]
