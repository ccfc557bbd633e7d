"""Without mpi4py: chainrule and chainrule.distributed import; anything that talks to MPI says what to install."""
from __future__ import annotations

import subprocess
import sys

import pytest
from mpirun import env

import chainrule as cr
from chainrule.distributed import comm

HIDE_MPI4PY = "import sys; sys.modules['mpi4py'] = None\n"


def test_import_is_light_and_errors_name_the_extra():
    code = HIDE_MPI4PY + (
        "import chainrule as cr\n"
        "from chainrule import distributed as dist\n"
        "assert 'mpi4py' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "assert dist.is_main() and not dist.is_initialized()\n"
        "try:\n"
        "    dist.init()\n"
        "except dist.DistributedError as e:\n"
        "    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], env=env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'pip install "chainrule[mpi]"' in done.stdout


def test_train_distributed_without_mpi4py_is_one_line(tmp_path):
    code = HIDE_MPI4PY + "from chainrule.cli import main\nsys.exit(main())\n"
    done = subprocess.run([sys.executable, "-c", code, "train", "--distributed", "--epochs", "1"], cwd=tmp_path,
                          env=env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("chainrule train: error: distributed training needs mpi4py")
    assert len(done.stderr.strip().splitlines()) == 1 and 'pip install "chainrule[mpi]"' in done.stderr
    assert not (tmp_path / "runs").exists()


def test_rank_before_init_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(comm, "_comm", None)
    with pytest.raises(cr.distributed.DistributedError, match=r"init\(\) has not been called"):
        cr.distributed.rank()
