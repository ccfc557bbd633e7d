"""How one rank of ``mpiexec -n N chainrule train --distributed`` runs, and how it fails.

MPI launchers kill every rank with SIGKILL as soon as one dies, so no rank
can report a peer that was killed.  So the process the launcher starts is a
small supervisor: it runs the command again as a worker child (which joins
MPI) and, if that child dies of a signal, says which rank it was, then exits
so that the launcher stops the others.  In the worker, a failure after the
ranks have started calls ``MPI_Abort``: the other ranks stop at once instead
of waiting in their next collective.  A failure before that (a bad option,
the same on every rank) is printed once, by rank 0, and every rank exits.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from typing import Callable

from . import comm

WORKER = "CHAINRULE_DISTRIBUTED_WORKER"  # set in the worker's environment: the fd to report its rank on
ABORT_DELAY = 1.0  # seconds between a failed rank's last words and MPI_Abort
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)


def run(argv: list[str], body: Callable[[], int], error_type: type) -> int:
    """The supervisor when started by the launcher, the worker (``body`` under MPI) in its child."""
    if WORKER in os.environ:
        return _worker(body, error_type)
    try:
        comm.mpi(initialize=False)  # a missing mpi4py is one line here, before any work
    except comm.DistributedError as e:
        raise error_type(str(e)) from None
    return _supervise(argv)


def _supervise(argv: list[str]) -> int:
    read_fd, write_fd = os.pipe()
    os.set_inheritable(write_fd, True)
    env = dict(os.environ, **{WORKER: str(write_fd)})
    # close_fds=False: the launcher's own descriptors (MPICH's PMI_FD, say) must reach the worker
    child = subprocess.Popen([sys.executable, "-m", "chainrule.cli", *argv], env=env, close_fds=False)
    os.close(write_fd)
    forwarded: list = []  # signals the launcher (or a user) sent this rank: the child's death is not news

    def forward(sig, _frame) -> None:
        forwarded.append(sig)
        child.send_signal(sig)

    for sig in FORWARDED:
        signal.signal(sig, forward)
    code = child.wait()
    with os.fdopen(read_fd) as f:
        who = f.read().strip() or "a rank that had not joined MPI yet"
    if code < 0:
        if not forwarded:
            print(f"chainrule train: {who} (pid {child.pid} on {socket.gethostname()}) was killed by "
                  f"{signal.Signals(-code).name}; stopping all ranks", file=sys.stderr, flush=True)
        return 128 - code
    return code


def _worker(body: Callable[[], int], error_type: type) -> int:
    _die_with_parent()
    comm.init(abort_on_exception=False)
    sys.stdout.reconfigure(line_buffering=True)  # MPI_Abort would drop what a buffer still holds
    with os.fdopen(int(os.environ.pop(WORKER)), "w") as f:
        f.write(f"rank {comm.rank()} of {comm.world_size()}")
    try:
        code = body()
        message = None
    except comm.PeersFailed:
        return 1  # the ranks that failed said why; every rank is out of its collectives
    except error_type as e:
        code, message = 2, f"chainrule train: error: {e}"
    except KeyboardInterrupt:
        code, message = 130, "interrupted"
    except Exception as e:
        traceback.print_exc()
        code, message = 1, f"chainrule train: {type(e).__name__}: {e}"
    if code == 0:
        return 0
    if not comm.started():
        # nothing collective has happened yet: the ranks compare notes, rank 0 speaks for all if all failed
        everyone = comm.startup_check(failed=True) == comm.world_size()
        if message is not None and (not everyone or comm.is_main()):
            _say(message, rank=not everyone)
        return code
    if message is not None:
        _say(message + ("; stopping all ranks" if comm.world_size() > 1 else ""), rank=True)
    sys.stderr.flush()
    sys.stdout.flush()
    time.sleep(ABORT_DELAY)  # the launcher drops output it has not forwarded yet when the abort reaches it
    comm.comm().Abort(code)
    return code


def _say(message: str, rank: bool) -> None:
    where = f"[rank {comm.rank()} of {comm.world_size()}] " if rank and comm.world_size() > 1 else ""
    print(where + message, file=sys.stderr, flush=True)


def _die_with_parent() -> None:
    """The worker must not outlive its supervisor (the launcher kills only the processes it started)."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="chainrule-parent-watch").start()
