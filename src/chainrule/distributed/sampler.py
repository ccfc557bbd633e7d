"""DistributedSampler: each rank's disjoint share of one seeded order of the dataset (PyTorch's semantics).

Every rank draws the same permutation for (seed, epoch), the one a
``DataLoader(shuffle=True, seed=seed)`` serves in that epoch, pads it to a
multiple of the number of ranks by repeating its first indices (or, with
``drop_last``, cuts it down to one), and takes every ``num_replicas``-th index
from its own rank on.  So batch k of a rank with batch size B/N holds rank
r's part of batch k of one process with batch size B.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..data.loader import epoch_order


class DistributedSampler:
    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from . import comm

            num_replicas = comm.world_size() if num_replicas is None else num_replicas
            rank = comm.rank() if rank is None else rank
        if not isinstance(num_replicas, (int, np.integer)) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive integer, got {num_replicas!r}")
        if not isinstance(rank, (int, np.integer)) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank!r}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        self.num_samples = n // self.num_replicas if self.drop_last else -(-n // self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order next; call it before every epoch, or every epoch repeats epoch 0."""
        self.epoch = int(epoch)

    def indices(self) -> np.ndarray:
        order = epoch_order(len(self.dataset), self.seed, self.epoch, self.shuffle)
        if self.drop_last:
            order = order[:self.total_size]
        elif self.total_size > len(order):
            order = np.resize(order, self.total_size)  # repeats from the start, as often as needed
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (f"DistributedSampler({len(self.dataset)} examples, rank {self.rank} of {self.num_replicas}, "
                f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last})")
