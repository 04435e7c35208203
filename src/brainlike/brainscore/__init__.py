"""Brain-Score for brainlike models: a BrainModel for any registered or wrapped model, and the plugin glue.

    from brainlike.brainscore import BrainScoreModel
    model = BrainScoreModel("cornet_s", pretrained=True)
    model.start_recording("IT", [(70, 170), (170, 270)])
    assembly = model.look_at(stimulus_set)      # presentation x neuroid x time_bin

The card's region map decides which area answers a region (completed by Brain-Score's published map for
BLT-VS, see `regions`); each requested time bin is answered by the step of that area whose committed bin
starts nearest to the requested start (steps with no commitment are never used), and the answer is labelled
with the requested bin, as Brain-Score's temporal wrappers do. Activations are flattened (channel, y, x) in
that order. Every StimulusSet column is a `presentation` coordinate. Stochastic models (VOneNets with noise
on) are averaged over `number_of_trials` presentations; deterministic ones run once. The behavioural tasks
(label, probabilities, odd_one_out) follow Brain-Score's model helpers (see `behaviour`).

brainscore-vision is optional: without it `BrainScoreModel` is a plain class and `look_at` returns xarray
DataArrays with the same dims and coordinates; with it, a `BrainModel` answering with NeuroidAssembly and
BehavioralAssembly. `register_models` and `write_plugin` make `brainscore_vision.load_model(...)` find
brainlike models (see `plugin`); `features_as_assembly` hands extracted features to Brain-Score.
"""

from brainlike.brainscore.bins import step_for_bins
from brainlike.brainscore.features import features_as_assembly
from brainlike.brainscore.model import BrainScoreModel
from brainlike.brainscore.plugin import install_plugin, plugin_identifier, register_models, write_plugin
from brainlike.brainscore.stimuli import stimulus_files

__all__ = [
    "BrainScoreModel",
    "features_as_assembly",
    "install_plugin",
    "plugin_identifier",
    "register_models",
    "step_for_bins",
    "stimulus_files",
    "write_plugin",
]
