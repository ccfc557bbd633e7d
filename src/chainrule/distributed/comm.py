"""The MPI world through mpi4py: who this process is, how many there are, and collectives on arrays.

mpi4py is imported on first use, so ``import chainrule`` works without it.
Collectives hand NumPy arrays to MPI through the buffer protocol, with MPI's
own datatypes (``Allreduce``, ``Iallreduce``, ``Bcast``); nothing is pickled.
"""
from __future__ import annotations

import os
import sys
import zlib
from typing import Any

import numpy as np

from .. import layout
from ..errors import ChainruleError

INSTALL = 'pip install "chainrule[mpi]"'


class DistributedError(ChainruleError, RuntimeError):
    """Distributed training cannot go on: MPI missing, ranks that disagree, a rank that failed."""


_comm: Any = None  # MPI.COMM_WORLD once init() has run


def mpi(initialize: bool = True):
    """The ``mpi4py.MPI`` module, or a DistributedError that says how to install it.

    mpi4py joins MPI when ``mpi4py.MPI`` is first imported; ``initialize=False``
    only loads the library (a process that must not join, such as a supervisor).
    """
    try:
        import mpi4py

        if not initialize:
            mpi4py.rc.initialize = mpi4py.rc.finalize = False
        from mpi4py import MPI
    except ImportError as e:
        raise DistributedError(f"distributed training needs mpi4py and an MPI library: {INSTALL} ({e})") from None
    return MPI


def init(abort_on_exception: bool = True) -> None:
    """Join the MPI world (``MPI.COMM_WORLD``); calling it again does nothing.

    With ``abort_on_exception`` an uncaught exception on any rank prints its
    traceback with the rank's number and calls ``MPI_Abort``, so the other
    ranks stop at once instead of waiting forever in their next collective
    (what ``python -m mpi4py script.py`` does).
    """
    global _comm
    if _comm is not None:
        return
    _comm = mpi().COMM_WORLD
    if abort_on_exception and _comm.Get_size() > 1:
        sys.excepthook = _abort_hook(sys.excepthook)


def is_initialized() -> bool:
    return _comm is not None


def comm():
    if _comm is None:
        raise DistributedError("chainrule.distributed.init() has not been called in this process")
    return _comm


def rank() -> int:
    """This process's number, 0 .. world_size() - 1."""
    return comm().Get_rank()


def world_size() -> int:
    return comm().Get_size()


def is_main() -> bool:
    """True on rank 0, the one that writes files and prints (and in a process that never called init)."""
    return _comm is None or _comm.Get_rank() == 0


def barrier() -> None:
    comm().Barrier()


def local_size() -> int:
    """How many ranks share this machine (they share its cores)."""
    MPI = mpi()
    local = comm().Split_type(MPI.COMM_TYPE_SHARED)
    try:
        return local.Get_size()
    finally:
        local.Free()


def flat_view(array: np.ndarray) -> np.ndarray:
    """``array`` as a 1-D view of its own memory (C or Fortran order), for MPI's buffer protocol."""
    flat = array.reshape(-1, order="F" if layout.column_major(array) else "C")
    if not np.shares_memory(flat, array) and array.size:
        raise DistributedError(f"collective on a non-contiguous array of shape {array.shape}: pass a contiguous one")
    return flat


def all_reduce_(array: np.ndarray, op: str = "sum") -> np.ndarray:
    """Replace ``array`` on every rank by the sum (or "max", "min") of all ranks' arrays, in place."""
    MPI = mpi()
    comm().Allreduce(MPI.IN_PLACE, flat_view(array), op={"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op])
    return array


def broadcast_(array: np.ndarray, root: int = 0) -> np.ndarray:
    """Overwrite ``array`` on every rank with rank ``root``'s, in place."""
    comm().Bcast(flat_view(array), root=root)
    return array


def broadcast_bytes(data: bytes | None, root: int = 0) -> bytes:
    """Rank ``root``'s bytes on every rank (a length, then the bytes: two buffer broadcasts)."""
    mine = comm().Get_rank() == root
    n = broadcast_(np.array([len(data) if mine else 0], np.int64), root)[0]
    buf = np.frombuffer(data, np.uint8).copy() if mine else np.empty(int(n), np.uint8)
    return broadcast_(buf, root).tobytes()


def agree(what: str, mine: str) -> None:
    """Raise DistributedError on every rank unless all ranks describe ``what`` by the same text ``mine``."""
    code = zlib.crc32(mine.encode())
    both = all_reduce_(np.array([code, -code], np.int64), "min")
    if both[0] != -both[1]:
        shown = mine if len(mine) < 300 else mine[:300] + "..."
        raise DistributedError(f"the ranks disagree about {what}; rank {rank()} has: {shown}")


class PeersFailed(DistributedError):
    """Other ranks could not start; they have printed why."""


_started = False  # startup_check has run: from now on a failing rank must abort the others


def startup_check(failed: bool = False) -> int:
    """Every rank says whether it could get ready to train; returns how many could not (a collective)."""
    global _started
    count = int(all_reduce_(np.array([int(failed)], np.int64))[0])
    _started = True
    if count and not failed:
        raise PeersFailed(f"{count} of {world_size()} ranks failed to start")
    return count


def started() -> bool:
    return _started


def _abort_hook(previous):
    def hook(kind, exc, tb):
        try:
            sys.stderr.write(f"chainrule: rank {rank()} of {world_size()} failed ({kind.__name__}: {exc}); "
                             f"stopping all ranks\n")
            previous(kind, exc, tb)
            sys.stderr.flush()
        finally:
            _comm.Abort(1)
            os._exit(1)

    return hook
