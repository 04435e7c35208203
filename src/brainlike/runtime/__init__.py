"""What training and analysis share: device choice, torchrun process groups and collectives, batches from
datasets, checkpoints, building a model for a dataset, and the loop that runs a model over a dataset
with its readouts (loss and accuracy per readout step)."""

from brainlike.runtime.devices import decode_workers, pick_device, spare_cores
from brainlike.runtime.distributed import Context
from brainlike.runtime.evaluation import Evaluation, measure_accuracy
from brainlike.runtime.readouts import ReadoutLoss, Readouts

__all__ = [
    "Context",
    "Evaluation",
    "ReadoutLoss",
    "Readouts",
    "decode_workers",
    "measure_accuracy",
    "pick_device",
    "spare_cores",
]
