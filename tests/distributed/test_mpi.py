"""Two real ranks under ``mpiexec -n 2``: gradients, broadcasts, the train command, and failures."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from mpirun import TIMEOUT, env, launch, mpiexec, train_command

import chainrule as cr
from chainrule.train import TrainConfig, train

HERE = Path(__file__).resolve().parent
FAST = ("--epochs", "2", "--layers", "64,32,10")


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("ddp")
    done = launch(2, [sys.executable, str(HERE / "ddp_script.py"), str(out)], cwd=out)
    assert done.returncode == 0, done.stderr
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def test_ranks_and_main(reports):
    assert [(r["rank"], r["world"], r["is_main"]) for r in reports] == [(0, 2, True), (1, 2, False)]


@pytest.mark.parametrize("overlap", [False, True])
def test_averaged_gradients_are_the_full_batch_gradient(reports, overlap):
    """Each rank saw half the batch; after backward every .grad is the whole batch's (float32 rounding)."""
    for r in reports:
        assert r[f"weight_err_{overlap}"] == 0.0  # rank 0's initial weights were broadcast
        assert r[f"grad_err_{overlap}"] < 1e-6
        assert r[f"no_sync_err_{overlap}"] < 1e-6
        assert len(r[f"buckets_{overlap}"]) == 2  # tiny caps: more than one bucket, in reverse layer order
        assert r[f"buckets_{overlap}"][0][:2] == ["4.bias", "4.weight"]


def test_buffers_and_optimizer_state_come_from_rank_0(reports):
    zero, one = reports
    for r in reports:
        assert r["running_mean"] == [1.0] * 4 and r["num_batches_tracked"] == 7
        assert r["opt_lr"] == 0.005 and r["opt_betas"] == [0.8, 0.9]
    assert one["opt_state"] == zero["opt_state"]
    assert zero["opt_state"]["0"]["step"] == [2.0]


def test_sync_batchnorm_on_shards_equals_batchnorm_on_the_whole_batch(reports):
    for r in reports:
        assert r["converted"] == "SyncBatchNorm"
        assert r["syncbn_grad_err"] < 2e-6  # two steps' gradients, every parameter
        assert r["syncbn_stats_err"] < 1e-6  # running mean and variance (unbiased over the whole batch)


def test_unused_parameter_and_model_mismatch_are_errors_on_every_rank(reports):
    for r in reports:
        assert "no gradient to b.bias, b.weight" in r["unused"]
        assert "the ranks disagree about the model's parameters" in r["mismatch"]


def _weights(path) -> dict:
    return {k: v.numpy() for k, v in cr.load(Path(path) / "model.safetensors").items()}


def test_train_two_ranks_equals_one_process(tmp_path):
    """Same seed and global batch: 2 ranks end with one process's weights, and the whole test set's accuracy."""
    done = launch(2, train_command("--distributed", *FAST, "--out", "two"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = [line for line in done.stdout.splitlines() if line.startswith("test accuracy")]
    assert len(summary) == 1  # only rank 0 prints
    one = train(TrainConfig(epochs=2, layers=[64, 32, 10], out=str(tmp_path / "one")))
    two, ref = _weights(tmp_path / "two"), _weights(tmp_path / "one")
    assert two.keys() == ref.keys()
    for k in ref:
        np.testing.assert_allclose(two[k], ref[k], rtol=1e-4, atol=2e-6, err_msg=k)
    rows = list(csv_rows(tmp_path / "two" / "metrics.csv"))
    assert [float(r["test_acc"]) for r in rows] == [row["test_acc"] for row in one.history]
    assert np.allclose([float(r["train_loss"]) for r in rows], [row["train_loss"] for row in one.history],
                       rtol=1e-5)
    assert f"{100 * one.test_accuracy:.2f}%" in summary[0]  # the whole test set's accuracy, as one process


def test_resume_across_ranks_equals_uninterrupted(tmp_path):
    first = launch(2, train_command("--distributed", *FAST, "--out", "run", "--epochs", "1"), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = launch(2, train_command("--distributed", "--resume", "run", "--epochs", "2"), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    train(TrainConfig(epochs=2, layers=[64, 32, 10], out=str(tmp_path / "one")))
    got, ref = _weights(tmp_path / "run"), _weights(tmp_path / "one")
    for k in ref:
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-4, atol=2e-6, err_msg=k)


def test_batch_not_divisible_by_ranks_is_one_line(tmp_path):
    done = launch(2, train_command("--distributed", *FAST, "--batch-size", "33", "--out", "x"), cwd=tmp_path)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert errors == ["chainrule train: error: --batch-size 33 is the global batch and must be divisible by "
                      "the 2 ranks (e.g. 32)"]
    assert not (tmp_path / "x" / "model.safetensors").exists()


INJECT = """
import os
if "CHAINRULE_DISTRIBUTED_WORKER" in os.environ and os.environ.get("PMI_RANK") == "1":
    import chainrule.train as t
    real = t._epoch
    def _epoch(epoch, *a, **k):
        if epoch == 1:  # let rank 0 write epoch 1 and wait in epoch 2's first all-reduce
            import time
            while not os.path.exists(os.path.join("run", "metrics.csv")):
                time.sleep(0.05)
            time.sleep(1.0)
            raise RuntimeError("injected failure")
        return real(epoch, *a, **k)
    t._epoch = _epoch
"""


def test_exception_on_rank_1_stops_every_rank(tmp_path):
    """Rank 1 raises in epoch 2 while rank 0 waits in a collective: both stop, and the message names rank 1."""
    (tmp_path / "inject").mkdir()
    (tmp_path / "inject" / "sitecustomize.py").write_text(INJECT)
    t0 = time.monotonic()
    done = launch(2, train_command("--distributed", "--epochs", "30", "--out", "run"), cwd=tmp_path, timeout=60,
                  PYTHONPATH=str(tmp_path / "inject"))
    assert time.monotonic() - t0 < 60
    assert done.returncode != 0
    assert "[rank 1 of 2] chainrule train: RuntimeError: injected failure; stopping all ranks" in done.stderr, \
        (done.returncode, done.stdout, done.stderr)
    assert "epoch  1/30" in done.stdout and "epoch  2/30" not in done.stdout
    assert (tmp_path / "run" / "model.safetensors").exists()  # epoch 1's checkpoint survives


def _rank_worker(rank: int, launcher: subprocess.Popen) -> int | None:
    """The pid of this launch's worker process of ``rank`` (MPICH's hydra tells each process its PMI_RANK).

    Only descendants of ``launcher`` count: other test runs on the machine have rank-1 workers too.
    """
    parents: dict[int, int] = {}
    environs: dict[int, list] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            environs[int(pid)] = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        parents[int(pid)] = int(stat.rsplit(")", 1)[1].split()[1])

    def descends(pid: int) -> bool:
        while pid > 1:
            if pid == launcher.pid:
                return True
            pid = parents.get(pid, 0)
        return False

    for pid, environ in environs.items():
        if (f"PMI_RANK={rank}".encode() in environ and descends(pid)
                and any(e.startswith(b"CHAINRULE_DISTRIBUTED_WORKER=") for e in environ)):
            return pid
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the rank's process through /proc")
def test_kill_9_of_rank_1_mid_epoch_stops_every_rank(tmp_path):
    cmd = [mpiexec(), "-n", "2", *train_command("--distributed", "--epochs", "50", "--layers", "64,256,256,10",
                                                "--out", "run")]
    with subprocess.Popen(cmd, cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          stdin=subprocess.DEVNULL) as launcher:
        try:
            deadline = time.monotonic() + TIMEOUT
            while not (tmp_path / "run" / "metrics.csv").exists():  # epoch 1 is done: now in the middle of 2
                assert launcher.poll() is None and time.monotonic() < deadline, "the run never got going"
                time.sleep(0.05)
            victim = _rank_worker(1, launcher)
            assert victim is not None
            os.kill(victim, signal.SIGKILL)
            t0 = time.monotonic()
            out, err = launcher.communicate(timeout=30)
            stopped = time.monotonic() - t0
        finally:
            if launcher.poll() is None:
                launcher.kill()
    assert stopped < 10
    assert launcher.returncode != 0
    assert f"chainrule train: rank 1 of 2 (pid {victim} " in err and "was killed by SIGKILL; stopping all ranks" in err
    assert "epoch 50/50" not in out


def csv_rows(path):
    import csv

    with open(path) as f:
        yield from csv.DictReader(f)
