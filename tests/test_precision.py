"""Precision names and the bf16 inference path."""

import pytest
import torch

from brainlike import BrainlikeError, create_model, precision, record
from brainlike.precision import autocast, autocast_dtype


def test_precision_names_map_to_autocast_dtypes():
    assert autocast_dtype("fp32") is None
    assert autocast_dtype("bf16") is torch.bfloat16
    assert autocast_dtype("mixed", "cpu") is torch.bfloat16 and autocast_dtype("mixed", "cuda") is torch.float16
    with pytest.raises(BrainlikeError, match="needs a CUDA GPU"):
        autocast_dtype("fp16", "cpu")
    with pytest.raises(BrainlikeError, match="unknown precision 'half'"):
        with autocast("half"):
            pass


@pytest.mark.parametrize("fast", [True, False])
def test_bf16_on_a_cpu_without_bf16_kernels_warns_that_it_is_slow(monkeypatch, recwarn, fast):
    monkeypatch.setattr(precision, "cpu_runs_bf16_fast", lambda: fast)
    with autocast("bf16"):
        assert torch.get_autocast_dtype("cpu") is torch.bfloat16
    with autocast("fp32"):
        pass
    slow = [w for w in recwarn if "no bf16 kernels for this CPU" in str(w.message)]
    assert len(slow) == (0 if fast else 1) and all(w.category is RuntimeWarning for w in slow)


def test_bf16_recording_is_close_to_fp32_and_comes_back_as_float32():
    torch.manual_seed(0)
    model = create_model("cornet_z")
    x = torch.randn(2, 3, 64, 64)
    fp32 = record(model, x, areas=["V2"])["V2"][0]
    bf16 = record(model, x, areas=["V2"], precision="bf16")["V2"][0]
    assert bf16.dtype == torch.float32
    assert float((bf16 - fp32).norm() / fp32.norm()) < 2e-2
