"""Process-group setup for `torchrun` and the few collectives the trainer needs.

`torchrun --nproc_per_node N -m brainlike train …` sets RANK, WORLD_SIZE, LOCAL_RANK and the
rendezvous variables; multi-node runs add `--nnodes M --node_rank i --rdzv_backend c10d
--rdzv_endpoint HOST:PORT` (or `--master_addr/--master_port`) and nothing here changes. NCCL is used
on GPUs, gloo on CPU.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn as nn


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1


def pick_device(name: str | None, local_rank: int = 0) -> torch.device:
    if name in (None, "auto"):
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def setup(device: str | None = None) -> Context:
    """Join the torchrun process group when launched by torchrun; else a single-process context."""
    if not launched_by_torchrun():
        return Context(device=pick_device(device))
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    chosen = pick_device(device, local_rank)
    if chosen.type == "cuda":
        torch.cuda.set_device(chosen)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if chosen.type == "cuda" else "gloo")
    return Context(rank=rank, world_size=world, local_rank=local_rank, device=chosen)


def teardown(context: Context) -> None:
    if context.distributed and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(tensor: torch.Tensor, context: Context) -> torch.Tensor:
    """Sum of `tensor` over processes (the tensor itself in a single process)."""
    if context.distributed:
        tensor = tensor.clone()
        dist.all_reduce(tensor)
    return tensor


def broadcast_flag(flag: bool, context: Context) -> bool:
    """Rank 0's value of `flag`, on every process."""
    if not context.distributed:
        return flag
    value = torch.tensor([int(flag)], device=context.device)
    dist.broadcast(value, 0)
    return bool(value.item())


def unused_parameters(model: nn.Module, example: torch.Tensor, use_readouts: bool) -> list[str]:
    """Names of trainable parameters that get no gradient from one forward/backward pass.

    Runs on a copy, so the model's buffers (BatchNorm statistics) and the RNG stay untouched.
    """
    probe = copy.deepcopy(model).train()
    with torch.random.fork_rng(devices=[example.device] if example.device.type == "cuda" else []):
        outputs = probe.readouts(example) if use_readouts and hasattr(probe, "readouts") else [probe(example)]
        sum(o.float().sum() for o in outputs).backward()
    return [name for name, p in probe.named_parameters() if p.requires_grad and p.grad is None]
