import pytest

from brainlike.analysis.v1 import measure_v1
from tests.analysis.v1.gabor_model import GaborUnit, GaborV1

SF = 3.0844216508  # a grid SF of the protocol, so the preferred condition sits on it
UNITS = [
    GaborUnit(orientation=30, spatial_frequency=SF, sigma=0.4 / SF),
    GaborUnit(orientation=30, spatial_frequency=SF, sigma=0.4 / SF, complex=True),
    GaborUnit(orientation=100, spatial_frequency=SF, sigma=0.4 / SF, phase=90),
    GaborUnit(orientation=140, spatial_frequency=SF, sigma=0.4 / SF, complex=True),
    GaborUnit(orientation=60, spatial_frequency=SF, sigma=0.5 / SF, phase=45),
    GaborUnit(orientation=165, spatial_frequency=SF, sigma=0.5 / SF, complex=True),
]


@pytest.fixture(scope="session")
def model():
    return GaborV1(UNITS).eval()


@pytest.fixture(scope="session")
def result(model):
    """The full grating panel on the synthetic Gabor V1, shared by the tests of this folder."""
    return measure_v1(model, area="V1", seed=0, batch_size=128)
