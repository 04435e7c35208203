"""The training sampler: (epoch, index) pairs, shuffled, resumable part-way through an epoch."""

from __future__ import annotations

from torch.utils.data import DistributedSampler


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
