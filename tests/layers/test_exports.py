"""`brainlike.layers` exports its building blocks (the import direction is checked by `make lint`)."""

import brainlike.layers


def test_the_package_exports_its_building_blocks():
    for name in brainlike.layers.__all__:
        assert getattr(brainlike.layers, name).__module__.startswith("brainlike.layers."), name
