"""A run interrupted at any point of any write resumes to the weights of an uninterrupted run.

Every write of a run (config.json, each checkpoint, metrics.csv) goes through
``chainrule.atomic``, whose ``fault_hook`` is called before each step. The
tests stop the writer at every one of those points, in three ways: an
exception (what Ctrl-C does), a real SIGKILL of a forked writer at that
point (no cleanup code runs), and SIGKILL at random moments. After each, the
run folder must hold a consistent checkpoint (model and optimizer of one
epoch) and resuming it must end with exactly the uninterrupted weights.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import time

import numpy as np
import pytest

from chainrule import atomic, curves, runs
from chainrule.train import TrainConfig, train

CFG = TrainConfig(epochs=2, layers=[64, 6, 10], batch_size=512, seed=7, schedule="cosine")


@pytest.fixture(autouse=True)
def _no_plots(monkeypatch):
    """The loss curve is drawn once at the end, through the same atomic writer; matplotlib is slow to start."""
    monkeypatch.setattr(curves, "plot_curves", lambda *a, **k: None)
    yield
    atomic.fault_hook = None


@pytest.fixture(scope="module")
def reference() -> dict:
    """The weights of the uninterrupted run."""
    return _weights(train(CFG).model)


def _weights(model) -> dict:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _steps() -> list[str]:
    """Every write step of a whole run, in order (recorded, not assumed)."""
    seen: list[str] = []
    atomic.fault_hook = seen.append
    plot, curves.plot_curves = curves.plot_curves, lambda *a, **k: None
    try:
        train(dataclasses.replace(CFG, out=None))  # no folder: nothing recorded
        assert seen == []
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            train(dataclasses.replace(CFG, out=d))
    finally:
        atomic.fault_hook = None
        curves.plot_curves = plot
    return seen


STEPS = _steps()


def _stop_at(k: int, action) -> None:
    count = [0]

    def hook(name: str) -> None:
        if count[0] == k:
            action()
        count[0] += 1

    atomic.fault_hook = hook


def _check_consistent(out) -> int | None:
    """The checkpoint the folder points at: model and optimizer of the same epoch (None: no checkpoint yet)."""
    if not runs.has_checkpoint(out):
        return None
    _, info = runs.read_model(out)
    runs.read_state(out, info["epoch"])  # raises if the optimizer file is of another epoch
    return info["epoch"]


def _finish(out, reference: dict) -> None:
    """Resume (or start, if no checkpoint survived) and compare with the uninterrupted run."""
    atomic.fault_hook = None
    cfg = dataclasses.replace(CFG, out=str(out))
    result = train(cfg, resume=out) if runs.has_checkpoint(out) else train(cfg)
    got = _weights(result.model)
    assert got.keys() == reference.keys()
    for k in got:
        np.testing.assert_array_equal(got[k], reference[k], err_msg=k)
    assert [r["epoch"] for r in result.history] == [1, 2]
    assert _check_consistent(out) == 2
    leftovers = [p.name for p in (out / runs.CHECKPOINTS).iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_the_steps_cover_every_write_of_a_run():
    # the epoch-0 checkpoint, config.json, then per epoch: both checkpoint files, the folder rename, the
    # pointer switch, metrics.csv, best.safetensors
    for name in ("rename epoch-0000", "rename config.json", "write optimizer.safetensors", "fsync model.safetensors",
                 "rename epoch-0001", "switch last", "rename epoch-0002", "rename metrics.csv",
                 "rename best.safetensors", "prune"):
        assert name in STEPS, name
    assert len(STEPS) > 20


@pytest.mark.parametrize("k", range(len(STEPS)), ids=lambda k: f"{k}-{STEPS[k].replace(' ', '_')}")
def test_ctrl_c_at_every_write_step_then_resume(tmp_path, reference, k):
    def interrupt():
        raise KeyboardInterrupt

    _stop_at(k, interrupt)
    with pytest.raises(KeyboardInterrupt):
        train(dataclasses.replace(CFG, out=str(tmp_path)))
    before = _check_consistent(tmp_path)
    assert before in (None, 0, 1, 2)
    _finish(tmp_path, reference)


def _killed_child(work) -> int:
    """Run ``work`` in a forked child; return the signal that ended it (a 60 s alarm guards against hangs)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            signal.alarm(60)
            work()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0


def _sigkill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_sigkill_at_every_write_step_then_resume(tmp_path, reference):
    """A real kill (no finally blocks, temporary files left behind) between every pair of write steps."""
    for k in range(len(STEPS)):
        out = tmp_path / f"k{k}"

        def work(k=k, out=out):
            _stop_at(k, _sigkill_self)
            train(dataclasses.replace(CFG, out=str(out)))

        assert _killed_child(work) == signal.SIGKILL, STEPS[k]
        assert _check_consistent(out) in (None, 0, 1, 2), STEPS[k]
        _finish(out, reference)


def test_sigkill_at_random_moments_of_a_run_then_resume(tmp_path, reference):
    rng = np.random.default_rng(0)
    for trial in range(12):
        out = tmp_path / f"t{trial}"
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                signal.alarm(60)
                train(dataclasses.replace(CFG, out=str(out)))
            finally:
                os._exit(0)
        time.sleep(float(rng.uniform(0.0, 0.25)))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert _check_consistent(out) in (None, 0, 1, 2)
        _finish(out, reference)


def test_sigkill_at_random_moments_of_back_to_back_saves(tmp_path):
    """Saves in a tight loop, killed at random: the pointer always names a whole checkpoint of one epoch."""
    from chainrule import nn, optim

    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.1)

    def save(epoch: int) -> None:
        for p in model.parameters():
            p.data[...] = epoch  # the weights say which epoch they belong to
        opt.param_groups[0]["lr"] = float(epoch)
        runs.save_checkpoint(tmp_path, model, opt, None, {"epochs": epoch}, epoch, [])

    def save_forever(ready: int):
        save(1)
        os.write(ready, b"x")  # the parent's random delay starts once one checkpoint exists
        epoch = 2
        while True:
            save(epoch)
            epoch += 1

    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(30):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                signal.alarm(60)
                save_forever(w)
            finally:
                os._exit(0)
        os.close(w)
        assert os.read(r, 1) == b"x"
        os.close(r)
        time.sleep(float(rng.uniform(0.0, 0.05)))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        if not runs.has_checkpoint(tmp_path):
            continue
        tensors, info = runs.read_model(tmp_path)
        opt_state, _, _ = runs.read_state(tmp_path, info["epoch"])
        epoch = info["epoch"]
        seen.add(epoch)
        assert info["config"] == {"epochs": epoch}
        for name, t in tensors.items():
            assert (t.numpy() == epoch).all(), name
        assert opt_state["param_groups"][0]["lr"] == epoch
        # the next save clears what killed saves left behind: only it and the one before remain
        save(epoch + 1)
        assert len(list((tmp_path / runs.CHECKPOINTS).iterdir())) == 2
        assert runs.read_model(tmp_path)[1]["epoch"] == epoch + 1
    assert len(seen) > 1  # the kills landed at different points


def test_a_failing_save_leaves_the_previous_checkpoint(tmp_path, reference):
    """An error (disk full) inside a save is raised, and the folder still resumes from the last good epoch."""
    cfg = dataclasses.replace(CFG, out=str(tmp_path))

    count = [0]

    def disk_full(name):
        if name == "write model.safetensors":
            count[0] += 1
            if count[0] == 3:  # epoch 0 (before training), 1, then epoch 2's save fails
                raise OSError(28, "No space left on device")

    atomic.fault_hook = disk_full
    with pytest.raises(OSError, match="No space"):
        train(cfg)
    assert _check_consistent(tmp_path) == 1
    _finish(tmp_path, reference)


def test_an_old_layout_folder_still_resumes(tmp_path, reference):
    """Folders written before checkpoints/ (model and optimizer side by side) are read and continued."""
    train(dataclasses.replace(CFG, epochs=1, out=str(tmp_path / "new")))
    old = tmp_path / "old"
    old.mkdir()
    ckpt = runs.checkpoint_dir(tmp_path / "new")
    for name in (runs.MODEL_FILE, runs.STATE_FILE):
        (old / name).write_bytes((ckpt / name).read_bytes())
    assert _check_consistent(old) == 1
    _finish(old, reference)
    assert (old / runs.MODEL_FILE).is_symlink() and (old / runs.STATE_FILE).is_symlink()
