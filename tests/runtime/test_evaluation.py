"""The evaluation loop shared by training and analysis, and the device and core choices."""

import pytest
import torch

from brainlike import create_model
from brainlike.data.digits import digits
from brainlike.runtime import decode_workers, measure_accuracy, pick_device
from brainlike.runtime.devices import spare_cores


def test_measure_accuracy_counts_every_image_per_readout_step():
    torch.manual_seed(0)
    model = create_model("bl_net_32", num_classes=10)
    data = digits("val", size=16)
    result = measure_accuracy(model, data, input_size=16, transform="none", batch_size=50, device="cpu")
    assert result.images == len(data) and result.readout_steps == model.card.readout_steps
    frame = result.frame()
    assert list(frame.readout_step) == list(range(result.readout_steps))
    assert all(0 <= a <= b <= 1 for a, b in zip(frame.top1, frame.top5))


def test_auto_picks_a_gpu_only_when_there_is_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device("auto") == torch.device("cpu") == pick_device(None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("auto", local_rank=1) == torch.device("cuda:1")
    assert pick_device("cuda", local_rank=2) == torch.device("cuda:2")


@pytest.mark.parametrize("threads", [1, 2])
def test_decode_workers_are_the_cores_the_compute_threads_leave(monkeypatch, threads):
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
    assert decode_workers("cpu") == min(8, spare_cores("cpu"))
    assert spare_cores("cuda") >= spare_cores("cpu")


@pytest.mark.slow
def test_weights_digest_covers_every_tensor_and_changes_with_any_value():
    from brainlike.runtime.fingerprints import weights_digest

    model = create_model("cornet_s", times=(1, 1, 1))  # BatchNorm: 0-dim and integer buffers too
    before = weights_digest(model)
    assert before == weights_digest(model)
    with torch.no_grad():
        model.IT.norm3_0.running_var[0] += 1e-3
    assert weights_digest(model) != before
