"""What DistributedDataParallel must be told about a model before training starts."""

from __future__ import annotations

import copy

import torch
import torch.nn as nn


def unused_parameters(model: nn.Module, example: torch.Tensor, use_readouts: bool) -> list[str]:
    """Names of trainable parameters that get no gradient from one forward/backward pass.

    Runs on a copy, so the model's buffers (BatchNorm statistics) and the RNG stay untouched.
    """
    probe = copy.deepcopy(model).train()
    with torch.random.fork_rng(devices=[example.device] if example.device.type == "cuda" else []):
        outputs = probe.readouts(example) if use_readouts and hasattr(probe, "readouts") else [probe(example)]
        sum(o.float().sum() for o in outputs).backward()
    return [name for name, p in probe.named_parameters() if p.requires_grad and p.grad is None]
