"""Data-parallel training over MPI (mpi4py): ``mpiexec -n N python train.py`` or ``chainrule train --distributed``.

Each rank trains on its own shard of every batch; ``DistributedDataParallel``
averages the gradients by all-reduce, so N ranks take the same steps as one
process with the whole batch.  mpi4py is needed only once something here
talks to MPI: ``pip install "chainrule[mpi]"``.
"""
from __future__ import annotations

from .comm import (
    DistributedError,
    all_reduce_,
    barrier,
    broadcast_,
    init,
    is_initialized,
    is_main,
    rank,
    world_size,
)
from .ddp import DistributedDataParallel
from .sampler import DistributedSampler
from .sync import broadcast_parameters, broadcast_state
from .syncbn import SyncBatchNorm

__all__ = [
    "DistributedDataParallel", "DistributedError", "DistributedSampler", "all_reduce_", "barrier", "broadcast_",
    "broadcast_parameters", "broadcast_state", "init", "is_initialized", "is_main", "rank", "world_size",
    "SyncBatchNorm",
]
