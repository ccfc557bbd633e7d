"""Launch ``mpiexec -n N ...`` from a test: bounded by a timeout, with this checkout's chainrule and 1 BLAS thread."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule

SRC = str(Path(chainrule.__file__).resolve().parent.parent)
TIMEOUT = 180  # seconds: generous for a loaded 2-core machine, and never a hang


def mpiexec() -> str:
    """The mpiexec beside this Python (the mpich wheel's), else on PATH; skip when MPI is not installed."""
    pytest.importorskip("mpi4py", reason='needs the mpi extra: pip install "chainrule[mpi]"')
    found = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
    if found is None:
        pytest.skip('no mpiexec: pip install "chainrule[mpi]"')
    return found


def env(**extra: str) -> dict:
    e = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", **extra)
    e["PYTHONPATH"] = os.pathsep.join([extra.get("PYTHONPATH", ""), SRC]).strip(os.pathsep)
    return e


def launch(n: int, args: list[str], cwd, timeout: float = TIMEOUT, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([mpiexec(), "-n", str(n), *args], cwd=cwd, env=env(**extra), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def train_command(*options: str) -> list[str]:
    return [sys.executable, "-m", "chainrule.cli", "train", *options]
