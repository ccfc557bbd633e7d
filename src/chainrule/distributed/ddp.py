"""DistributedDataParallel: every rank's gradients averaged by all-reduce, a few large buckets per step.

The parameters are laid, in reverse order of registration (about the order
backward finishes them), into contiguous buffers of about ``bucket_cap_mb``;
the first bucket is small (``first_bucket_mb``) so that its reduction can
start while backward still runs.  A post-accumulate-grad hook copies each
gradient, divided by the number of ranks, into its bucket.  A full bucket is
reduced at once with ``overlap=True`` (a non-blocking ``Iallreduce``, waited
for after the last gradient), or with ``overlap=False`` all buckets are
reduced by blocking ``Allreduce`` calls after the last gradient.  Either
way ``loss.backward()`` returns with every ``.grad`` averaged over the ranks
and viewing its bucket, as in PyTorch.  Buckets are launched in the same
order on every rank, which MPI's collectives need.
"""
from __future__ import annotations

import contextlib
import time
from typing import Iterator

import numpy as np

from ..layout import view_like as _view_like
from ..nn.module import Module
from . import comm
from .sync import broadcast_parameters

# Measured with benchmarks/distributed.py on the 2-core development machine, config d: overlapping the
# reductions with backward did not pay there (MPI makes progress only inside MPI calls, and both cores
# compute), so the default is the simpler blocking reduction after backward; see README "Distributed".
OVERLAP = False


class _Bucket:
    __slots__ = ("flat", "names", "left", "request")

    def __init__(self, size: int, dtype) -> None:
        self.flat = np.empty(size, dtype)
        self.names: list[str] = []
        self.left = 0  # gradients still to come in this backward
        self.request = None


class DistributedDataParallel(Module):
    """Wrap ``module`` so that backward averages its gradients over all ranks.

    At construction rank 0's parameters and buffers are broadcast to every
    rank.  Every parameter that requires grad must receive a gradient in each
    backward (as PyTorch's default ``find_unused_parameters=False``).
    ``timings`` adds up seconds spent copying gradients into buckets
    ("copy") and inside MPI reduction calls ("comm"), for benchmarks.
    """

    def __init__(self, module: Module, bucket_cap_mb: float = 25.0, first_bucket_mb: float = 1.0,
                 overlap: bool | None = None) -> None:
        super().__init__()
        comm.init()
        self.module = module
        self.overlap = OVERLAP if overlap is None else bool(overlap)
        self.world = comm.world_size()
        self.timings = {"copy": 0.0, "comm": 0.0}
        broadcast_parameters(module)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self.buckets = _buckets(named[::-1], bucket_cap_mb, first_bucket_mb)
        by_name = dict(named)
        self._slots: dict = {}  # id(param) -> (param, its bucket, its part of the bucket shaped as it)
        self._names = {id(p): n for n, p in named}
        for b in self.buckets:
            start = 0
            for name in b.names:
                p = by_name[name]
                self._slots[id(p)] = (p, b, _view_like(b.flat[start:start + p._data.size], p._data))
                start += p._data.size
        self._sync = True
        self._grad_hooks = ([p.register_post_accumulate_grad_hook(self._ready) for _, p in named]
                            if self.world > 1 else [])
        self._reset()

    def forward(self, *args, **kwargs):
        if 0 < len(self._waiting) < len(self._slots):
            missing = sorted(self._waiting.values())
            raise comm.DistributedError(
                f"DistributedDataParallel: the last backward gave no gradient to {', '.join(missing[:5])}; "
                "every parameter that requires grad must take part in the loss (or set requires_grad=False)")
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward inside accumulates local gradients only; the next backward outside averages the sum."""
        self._sync = False
        try:
            yield
        finally:
            self._sync = True

    # ------------------------------------------------------------ the gradient hooks
    def _reset(self) -> None:
        for b in self.buckets:
            b.left, b.request = len(b.names), None
        self._waiting = dict(self._names)  # id -> name of the parameters whose gradient is still to come
        self._next = 0  # the next bucket to launch: buckets go in index order on every rank

    def _ready(self, p) -> None:
        if not self._sync:
            return
        t0 = time.perf_counter()
        _, bucket, view = self._slots[id(p)]
        np.multiply(p.grad._data, 1.0 / self.world, out=view)
        bucket.left -= 1
        del self._waiting[id(p)]
        t1 = time.perf_counter()
        self.timings["copy"] += t1 - t0
        if self.overlap:
            self._launch_full()
        if not self._waiting:
            self._finish()
        self.timings["comm"] += time.perf_counter() - t1

    def _launch_full(self) -> None:
        MPI = comm.mpi()
        while self._next < len(self.buckets) and not self.buckets[self._next].left:
            b = self.buckets[self._next]
            b.request = comm.comm().Iallreduce(MPI.IN_PLACE, b.flat, op=MPI.SUM)
            self._next += 1

    def _finish(self) -> None:
        MPI = comm.mpi()
        if self.overlap:
            MPI.Request.Waitall([b.request for b in self.buckets])
        else:
            for b in self.buckets:
                comm.comm().Allreduce(MPI.IN_PLACE, b.flat, op=MPI.SUM)
        for p, _, view in self._slots.values():
            p.grad._data = view
        self._reset()


def _buckets(named: list, cap_mb: float, first_mb: float) -> list[_Bucket]:
    """Consecutive parameters of one dtype; a bucket closes once it holds its cap in bytes or more."""
    groups: list[list] = []  # [members, dtype, bytes]
    for name, p in named:
        if groups:
            _, dtype, nbytes = groups[-1]
            cap = (first_mb if len(groups) == 1 else cap_mb) * 2**20
        if not groups or dtype != p._data.dtype or nbytes >= cap:
            groups.append([[], p._data.dtype, 0])
        groups[-1][0].append((name, p))
        groups[-1][2] += p._data.nbytes
    out = []
    for members, dtype, _ in groups:
        b = _Bucket(sum(p._data.size for _, p in members), dtype)
        b.names = [n for n, _ in members]
        out.append(b)
    return out
