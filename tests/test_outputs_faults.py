"""Interrupting any output a command writes: the previous file survives whole, and nothing half-written stays.

test_runs_faults.py stops ``train`` between every write of its checkpoints,
config and metrics; this file covers the rest of what the commands write:
curves.png (drawn at the end of a run), ``evaluate --json/--plot`` and
``explain --html/--json``, a resumed run racing a fresh one for the same
folder, and what a long run keeps in memory and open.
"""
from __future__ import annotations

import dataclasses
import gc
import os
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from chainrule import atomic, cli, runs
from chainrule.train import TrainConfig, train

SRC = str(Path(__file__).resolve().parents[1] / "src")
CFG = TrainConfig(epochs=1, layers=[64, 6, 10], batch_size=512, seed=3)


@pytest.fixture(autouse=True)
def _no_hook():
    yield
    atomic.fault_hook = None


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    train(dataclasses.replace(CFG, out=str(out)))
    return out


def _steps_of(argv: list[str]) -> list[str]:
    seen: list[str] = []
    atomic.fault_hook = seen.append
    try:
        assert cli.main(argv) == 0
    finally:
        atomic.fault_hook = None
    return seen


def _interrupt_at(k: int) -> None:
    count = [0]

    def hook(name: str) -> None:
        count[0] += 1
        if count[0] == k + 1:
            raise KeyboardInterrupt

    atomic.fault_hook = hook


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.endswith(".tmp")]


COMMANDS = {
    "evaluate": lambda run, d: ["evaluate", str(run), "--quiet", "--json", str(d / "e.json"), "--plot-file",
                                str(d / "c.png")],
    "explain": lambda run, d: ["explain", "--quiet", "--html", str(d / "x.html"), "--json", str(d / "x.json")],
}
OUTPUTS = {"evaluate": ("e.json", "c.png", "misclassified-test.png"), "explain": ("x.html", "x.json")}


@pytest.mark.parametrize("command", COMMANDS)
def test_ctrl_c_at_every_write_of_a_command_keeps_each_previous_file(one_epoch, tmp_path, capsys, monkeypatch,
                                                                    command):
    from matplotlib.figure import Figure

    # rendering a PNG takes seconds and is not what is tested: each figure "renders" to its title
    monkeypatch.setattr(Figure, "savefig", lambda fig, f, **k: f.write(repr(fig.texts or fig.axes).encode()))
    ref = tmp_path / "ref"
    ref.mkdir()
    steps = _steps_of(COMMANDS[command](one_epoch, ref))
    names = OUTPUTS[command]
    assert len(steps) == 3 * len(names)  # write, fsync, rename per file: each one is a point to stop at
    complete = {n: (ref / n).read_bytes() for n in names}
    for k in range(len(steps)):
        d = tmp_path / f"k{k}"
        d.mkdir()
        for n in names:
            (d / n).write_bytes(b"the previous file")
        _interrupt_at(k)
        assert cli.main(COMMANDS[command](one_epoch, d)) == 130, steps[k]
        atomic.fault_hook = None
        for n in names:
            assert (d / n).read_bytes() in (b"the previous file", complete[n]), (steps[k], n)
        assert _leftovers(d) == [], steps[k]
    capsys.readouterr()


@pytest.mark.parametrize("stop", ["write", "fsync", "rename"])
def test_ctrl_c_while_writing_curves_keeps_the_old_picture_and_resume_draws_it(one_epoch, tmp_path, capsys, stop):
    run = tmp_path / "run"
    shutil.copytree(one_epoch, run, symlinks=True)
    old = (run / runs.PLOT_FILE).read_bytes()

    def hook(name: str) -> None:
        if name == f"{stop} {runs.PLOT_FILE}":
            raise KeyboardInterrupt

    atomic.fault_hook = hook
    assert cli.main(["train", "--resume", str(run), "--epochs", "2", "--quiet"]) == 130
    atomic.fault_hook = None
    assert "training is complete (2 epochs, checkpoint saved); draw the curves with" in capsys.readouterr().err
    assert (run / runs.PLOT_FILE).read_bytes() == old
    assert _leftovers(run) == []
    assert runs.read_model(run)[1]["epoch"] == 2
    assert cli.main(["train", "--resume", str(run), "--epochs", "2", "--quiet"]) == 0
    new = (run / runs.PLOT_FILE).read_bytes()
    assert new != old and new.startswith(b"\x89PNG\r\n\x1a\n")


# ------------------------------------------------------------ a resumed run racing a fresh one
def _paused_train(argv: list[str], epoch: int) -> subprocess.Popen:
    """``chainrule train`` in another process, stopped inside the first batch of ``epoch`` (the run's lock held)."""
    stage = f"epoch {epoch} batch 1"
    env = {**os.environ, "PYTHONPATH": SRC, "CHAINRULE_PAUSE_AT": stage}
    p = subprocess.Popen([sys.executable, "-m", "chainrule.cli", "train", *argv, "--quiet"], env=env,
                         stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    assert line.startswith(f"paused at {stage}"), line
    return p


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("first", ["fresh", "resume"])
def test_a_resume_and_a_fresh_run_into_one_folder_cannot_both_write(one_epoch, tmp_path, capsys, first):
    run = tmp_path / "run"
    shutil.copytree(one_epoch, run, symlinks=True)
    if first == "fresh":
        shutil.rmtree(run)
        other = _paused_train(["--out", str(run), "--epochs", "2", "--layers", "64,6,10"], epoch=1)
        argv = ["train", "--resume", str(run), "--epochs", "3", "--quiet"]
        msg = f"another chainrule process (pid {other.pid}) is writing this run"
    else:
        other = _paused_train(["--resume", str(run), "--epochs", "2"], epoch=2)
        argv = ["train", "--out", str(run), "--epochs", "2", "--quiet", "--layers", "64,6,10"]
        msg = "already holds a run; continue it with --resume"
    try:
        before = _snapshot(run)
        assert cli.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and msg in err, err
        assert _snapshot(run) == before  # the refused run wrote nothing
    finally:
        other.kill()
        other.wait()
        other.stderr.close()


# ------------------------------------------------------------ resources over a run
def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through /proc")
def test_commands_leave_no_file_open(one_epoch, tmp_path, capsys):
    import numpy as np

    import chainrule as cr
    from chainrule.data.files import load_file

    np.savez(tmp_path / "d.npz", x=np.zeros((10, 3)), y=np.arange(10) % 2)
    before = None
    for _ in range(4):  # the first round may open what stays open on purpose (a font cache, a library)
        before = _open_files() if _ == 1 else before
        assert cli.main(["evaluate", str(one_epoch), "--quiet"]) == 0
        runs.read_model(one_epoch)
        runs.read_state(one_epoch, 1)
        cr.load(one_epoch / runs.MODEL_FILE)
        load_file(tmp_path / "d.npz")
        train(dataclasses.replace(CFG, out=str(tmp_path / f"r{_}")))
    assert _open_files() == before
    capsys.readouterr()


def test_memory_kept_per_epoch_is_only_the_metrics_row(tmp_path):
    """A run keeps one metrics row (about 1 kB) per epoch; a cache of batches or graphs would be ~100 kB each."""
    sizes: list[int] = []

    def measure(row):
        gc.collect()
        sizes.append(tracemalloc.get_traced_memory()[0])

    tracemalloc.start()
    try:
        train(dataclasses.replace(CFG, epochs=12, batch_size=128), on_epoch=measure)
    finally:
        tracemalloc.stop()
    per_epoch = (sizes[-1] - sizes[3]) / (len(sizes) - 4)
    assert per_epoch < 16 * 1024, per_epoch
