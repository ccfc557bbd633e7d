"""What ``chainrule train --distributed`` changes in a training run, kept out of train.py.

``--batch-size`` stays the global batch: each of the N ranks takes B/N
examples of every batch (its DistributedSampler shard of the same seeded
order), and gradients are averaged, so the steps are those of one process
with batch B.  Evaluation runs on each rank's share of the splits and the
sums are reduced, so the metrics are those of the whole sets.  Only rank 0
writes files and prints.
"""
from __future__ import annotations

import os

import numpy as np

from ..data import DataLoader
from ..trainconfig import ConfigError
from . import comm
from .ddp import DistributedDataParallel
from .sampler import DistributedSampler
from .sync import broadcast_parameters, broadcast_state

SPLITS = ("train", "val", "test")  # the evaluation splits of a run's metrics rows
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class DataParallelRun:
    def __init__(self, batch_size: int) -> None:
        comm.init()
        self.rank, self.size = comm.rank(), comm.world_size()
        self.is_main = self.rank == 0
        if batch_size % self.size:
            nearest = max(self.size, round(batch_size / self.size) * self.size)
            raise ConfigError(f"--batch-size {batch_size} is the global batch and must be divisible by the "
                              f"{self.size} ranks (e.g. {nearest})")
        comm.startup_check()  # the ranks start together, or all stop here
        self.threads = _share_cores()
        self.local_batch = batch_size // self.size

    def describe(self) -> str:
        threads = f"{self.threads} BLAS thread(s) each" if self.threads else "BLAS threads as the environment sets"
        ranks = f"{self.size} rank{'s' if self.size > 1 else ''}"
        return f"data parallel over {ranks}: {self.local_batch} examples of each batch per rank, {threads}"

    def loader(self, dataset, seed: int):
        sampler = DistributedSampler(dataset, self.size, self.rank, shuffle=True, seed=seed)
        return _ShardLoader(dataset, batch_size=self.local_batch, seed=seed, sampler=sampler)

    def wrap(self, model, optimizer) -> DistributedDataParallel:
        """Rank 0's weights and optimizer state everywhere (a resumed run included), then the DDP wrapper."""
        broadcast_parameters(model)
        broadcast_state(optimizer)
        return DistributedDataParallel(model)

    def shard_splits(self, splits):
        """This rank's share (every N-th example) of each evaluation split; the rest of ``splits`` as it is."""
        def shard(split):
            return type(split)(*(part[self.rank::self.size] for part in split))

        return splits._replace(**{k: shard(v) for k, v in splits._asdict().items() if k in SPLITS and v is not None})

    def reduce(self, row: dict, shards) -> dict:
        """An epoch's metrics over all ranks: each split's loss and accuracy weighted by the examples measured."""
        sums = []
        for name in SPLITS:
            split = getattr(shards, name)
            n = 0 if split is None else len(split[1])
            sums += [row[f"{name}_loss"] * n if n else 0.0, row[f"{name}_acc"] * n if n else 0.0, n]
        total = comm.all_reduce_(np.array(sums, np.float64))
        out = dict(row, seconds=float(comm.all_reduce_(np.array([row["seconds"]]), "max")[0]))
        for i, name in enumerate(SPLITS):
            loss, correct, n = total[3 * i:3 * i + 3]
            if n:
                out[f"{name}_loss"], out[f"{name}_acc"] = loss / n, round(correct) / n
        return out


class _ShardLoader(DataLoader):
    """A DataLoader whose epoch (``set_epoch``, as train.py drives it) is also its sampler's."""

    def order(self, epoch: int) -> np.ndarray:
        self.sampler.set_epoch(epoch)
        return super().order(epoch)


def _share_cores() -> int | None:
    """Ranks on one machine share its cores: cap each rank's BLAS threads at cores / local ranks.

    An explicit OMP_NUM_THREADS or OPENBLAS_NUM_THREADS wins (torchrun sets
    OMP_NUM_THREADS=1 for the same reason).  Returns the cap, or None when
    left alone.
    """
    if any(v in os.environ for v in THREAD_VARS):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = max(1, cores // comm.local_size())
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    threadpool_limits(threads)
    return threads
