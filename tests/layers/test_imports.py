"""The layers room builds on kernels and errors only, never on the rooms that use it."""

import brainlike.layers
from tests.kernels.test_imports import brainlike_imports, room


def test_layers_import_nothing_above_them():
    for module, names in brainlike_imports(brainlike.layers).items():
        outside = {n for n in names if room(n) not in ("errors", "kernels", "layers")}
        assert not outside, f"layers/{module} imports {sorted(outside)}"


def test_the_package_exports_its_building_blocks():
    for name in brainlike.layers.__all__:
        assert getattr(brainlike.layers, name).__module__.startswith("brainlike.layers."), name
