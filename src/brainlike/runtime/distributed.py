"""Process-group setup for `torchrun` and the few collectives that training and extraction need.

`torchrun --nproc_per_node N -m brainlike train …` sets RANK, WORLD_SIZE, LOCAL_RANK and the
rendezvous variables; multi-node runs add `--nnodes M --node_rank i --rdzv_backend c10d
--rdzv_endpoint HOST:PORT` (or `--master_addr/--master_port`) and nothing here changes. NCCL is used
on GPUs, gloo on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn as nn

from brainlike.runtime.devices import pick_device


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


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) when launched by torchrun, else (0, 1); joins no process group."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


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


def barrier(context: Context) -> None:
    """Wait until every process gets here."""
    if context.distributed:
        dist.barrier()


def broadcast_module(module: nn.Module, context: Context) -> None:
    """Give every process rank 0's parameters and buffers, so that randomly initialised models (or
    models built differently per process) are one and the same network everywhere."""
    if not context.distributed:
        return
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            shared = tensor.detach().to(context.device).contiguous()
            dist.broadcast(shared, src=0)
            tensor.copy_(shared)
