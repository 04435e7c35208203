"""Samplers that yield (epoch, index) pairs: shuffled and resumable for training, sharded for eval."""

from __future__ import annotations

from torch.utils.data import DistributedSampler, Sampler


class ResumableSampler(DistributedSampler):
    """DistributedSampler (shuffle seeded by seed + epoch) that drops the incomplete last global batch
    and can start part-way through an epoch.

    Dropping at the level of the global batch keeps every step's batch the union of the same items
    whatever the number of processes, so N processes with batch B/N follow one process with batch B.
    """

    def __init__(self, dataset, *, batch_size: int, num_replicas: int = 1, rank: int = 0, seed: int = 0):
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed, drop_last=True)
        if batch_size % num_replicas:
            raise ValueError(f"the global batch {batch_size} does not split over {num_replicas} processes")
        self.batch_size = batch_size
        self.per_rank_batch = batch_size // num_replicas
        self.batches_per_epoch = len(dataset) // batch_size
        self.start_batch = 0

    def set_position(self, epoch: int, batch: int) -> None:
        """Start at batch `batch` of `epoch` (the batches before it were done)."""
        self.set_epoch(epoch)
        self.start_batch = batch

    def __iter__(self):
        indices = list(super().__iter__())[: self.batches_per_epoch * self.per_rank_batch]
        for index in indices[self.start_batch * self.per_rank_batch :]:
            yield self.epoch, index

    def __len__(self) -> int:
        return (self.batches_per_epoch - self.start_batch) * self.per_rank_batch


class ShardSampler(Sampler):
    """Every item once, in order, split over processes (rank r takes items r, r+N, …), no padding."""

    def __init__(self, dataset, *, num_replicas: int = 1, rank: int = 0):
        self.size = len(dataset)
        self.num_replicas = num_replicas
        self.rank = rank

    def __iter__(self):
        for index in range(self.rank, self.size, self.num_replicas):
            yield 0, index

    def __len__(self) -> int:
        return len(range(self.rank, self.size, self.num_replicas))
