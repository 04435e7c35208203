"""`brainscore_vision.load_model("brainlike-...")` through a plugin folder, and BrainIO files."""

import shutil

import numpy as np

from brainlike.brainscore import BrainScoreModel, install_plugin, register_models


def test_load_model_finds_brainlike_models_through_the_plugin_folder():
    from brainscore_vision import load_model, model_registry

    folder = install_plugin(["cornet_z", "cornet_rt"], pretrained=False, folder="brainlike_test_plugin")
    try:
        model = load_model("brainlike-cornet_z")
        assert isinstance(model, BrainScoreModel) and model.identifier == "brainlike-cornet_z"
        assert load_model("brainlike-cornet_rt").card.name == "cornet_rt"
    finally:
        shutil.rmtree(folder)
        for key in ("brainlike-cornet_z", "brainlike-cornet_rt"):
            model_registry.pop(key, None)


def test_register_models_fills_brainscores_registry():
    from brainscore_vision import model_registry

    assert register_models(["cornet_z"], pretrained=False) == ["brainlike-cornet_z"]
    try:
        assert model_registry["brainlike-cornet_z"]().identifier == "brainlike-cornet_z"
    finally:
        model_registry.pop("brainlike-cornet_z")


def test_features_hand_over_as_a_neuroid_assembly(tmp_path):
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
    from PIL import Image

    from brainlike.analysis.features import extract_features
    from brainlike.brainscore import features_as_assembly

    paths = []
    for i in range(3):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(np.full((16, 16, 3), 60 * i, dtype=np.uint8)).save(paths[-1])
    stored = extract_features("cornet_z", paths, tmp_path / "f.h5", areas=["IT"], progress=False, workers=0)
    assembly = features_as_assembly(stored, region="IT")
    assert isinstance(assembly, NeuroidAssembly) and assembly.shape == (3, 512)
    assert assembly.sel(stimulus_id=paths[1]).shape == (1, 512) and set(assembly.region.values) == {"IT"}


def test_compare_reads_neural_data_in_brainios_own_layout(tmp_path):
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
    from brainscore_core.supported_data_standards.brainio.packaging import write_netcdf

    from brainlike.analysis.neural.data import load_neural

    rng = np.random.default_rng(0)
    values = rng.normal(size=(2 * 3, 4, 2))  # 3 stimuli x 2 repetitions, 4 neuroids, 2 time bins
    assembly = NeuroidAssembly(
        values,
        coords={
            "stimulus_id": ("presentation", ["a", "b", "c"] * 2),
            "repetition": ("presentation", [0, 0, 0, 1, 1, 1]),
            "object_name": ("presentation", ["x", "y", "x"] * 2),
            "neuroid_id": ("neuroid", ["n0", "n1", "n2", "n3"]),
            "region": ("neuroid", ["IT"] * 4),
            "time_bin_start": ("time_bin", [70, 170]),
            "time_bin_end": ("time_bin", [170, 270]),
        },
        dims=["presentation", "neuroid", "time_bin"],
    )
    write_netcdf(assembly, tmp_path / "it.nc")
    data = load_neural(tmp_path / "it.nc")
    assert data.stimulus_ids == ["a", "b", "c"] and data.neuroid_ids == ["n0", "n1", "n2", "n3"]
    assert data.time_bins_ms == ((70.0, 170.0), (170.0, 270.0))
    np.testing.assert_allclose(data.responses, values.reshape(2, 3, 4, 2))
