"""`brainlike.analysis` names every measurement without loading them all on import."""

import subprocess
import sys

import pytest

import brainlike.analysis as analysis


def test_every_exported_name_resolves():
    assert {"extract_features", "compare_report", "measure_v1", "v1_report", "accuracy_report"} <= set(analysis.__all__)
    for name in analysis.__all__:
        assert getattr(analysis, name) is not None


@pytest.mark.slow
def test_importing_one_module_loads_none_of_the_others():
    code = (
        "import sys, brainlike.analysis.stats; "
        "print(sorted(m for m in ('h5py', 'sklearn', 'matplotlib', 'brainlike.analysis.features') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
