"""One writer per run folder: an OS lock (flock), not a check that two processes can both pass."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule import runs
from chainrule.train import TrainConfig, train
from chainrule.trainconfig import ConfigError

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _hold_lock_in_child(run_dir: Path) -> int:
    """Fork a process that takes the run's lock and waits; returns its pid once it holds the lock."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            signal.alarm(60)
            with runs.lock(run_dir):
                os.write(w, b"x")
                signal.pause()
        finally:
            os._exit(0)
    os.close(w)
    assert os.read(r, 1) == b"x"
    os.close(r)
    return pid


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path):
    pid = _hold_lock_in_child(tmp_path)
    try:
        with pytest.raises(runs.RunBusy, match=rf"another chainrule process \(pid {pid}\) is writing"):
            train(TrainConfig(epochs=1, layers=[64, 4, 10], out=str(tmp_path)))
        assert not runs.has_checkpoint(tmp_path) and not (tmp_path / runs.CONFIG_FILE).exists()
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    # the holder was killed: the OS released its lock, no stale lock file blocks the next run
    train(TrainConfig(epochs=1, layers=[64, 4, 10], out=str(tmp_path)))
    assert runs.read_model(tmp_path)[1]["epoch"] == 1


def test_the_lock_is_reentrant_within_one_process(tmp_path):
    with runs.lock(tmp_path):
        with runs.lock(tmp_path):
            pass
        train(TrainConfig(epochs=1, layers=[64, 4, 10], out=str(tmp_path)))  # the CLI holds it around train()
    pid = _hold_lock_in_child(tmp_path)  # and it was released at the end
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def test_two_train_commands_started_at_once_into_one_folder(tmp_path):
    """Race two real processes: exactly one trains, the other gets one line and exit status 2."""
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": SRC}
    cmd = [sys.executable, "-m", "chainrule.cli", "train", "--layers", "64,8,10", "--epochs", "10", "--quiet",
           "--out", str(out)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    err = next(e for code, e in results if code == 2).strip()
    assert len(err.splitlines()) == 1, err
    assert "another chainrule process" in err or "already holds a run" in err, err
    _, info = runs.read_model(out)
    assert info["epoch"] == 10 and [r["epoch"] for r in info["history"]] == list(range(1, 11))


def test_new_run_dirs_started_in_the_same_second_differ(tmp_path):
    made = {runs.new_run_dir(tmp_path) for _ in range(5)}
    assert len(made) == 5 and all(p.is_dir() for p in made)


def test_a_new_run_into_a_folder_holding_one_is_refused_under_the_lock(tmp_path):
    cfg = TrainConfig(epochs=1, layers=[64, 4, 10], out=str(tmp_path))
    train(cfg)
    before = (tmp_path / runs.MODEL_FILE).read_bytes()
    with pytest.raises(ConfigError, match="already holds a run"):
        train(cfg, new_run=True)
    assert (tmp_path / runs.MODEL_FILE).read_bytes() == before
