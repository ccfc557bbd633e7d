"""Honest resume: refused overrides, fewer epochs, extended schedules, and real Ctrl-C at known points."""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli, runs
from chainrule.train import PAUSE_ENV, TrainConfig, train

SRC = str(Path(__file__).resolve().parents[1] / "src")
SMALL = ["--layers", "64,8,10", "--epochs", "3"]


def _main(argv) -> int:
    try:
        return cli.main(argv)
    except SystemExit as e:
        return e.code


def _weights(run):
    return {k: v.numpy() for k, v in cr.load(Path(run) / "model.safetensors").items()}


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def done_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "r"
    assert _main(["train", *SMALL, "--out", str(out), "-q"]) == 0
    return out


@pytest.mark.parametrize("args, named", [
    (["--lr", "0.1"], "--lr (0.003 in the run, 0.1 now)"),
    (["--seed", "5"], "--seed (0 in the run, 5 now)"),
    (["--batch-size", "16"], "--batch-size (32 in the run, 16 now)"),
    (["--schedule", "none"], "--schedule (cosine in the run, none now)"),
    (["--val-fraction", "0.2"], "--val-fraction"),
    (["--config", "{toml}"], "--lr (0.003 in the run, 0.5 now)"),
], ids=["lr", "seed", "batch-size", "schedule", "val-fraction", "toml"])
def test_resume_refuses_a_setting_it_would_not_use(done_run, tmp_path, capsys, args, named):
    toml = tmp_path / "c.toml"
    toml.write_text("lr = 0.5\n")
    before = ((done_run / "config.json").read_bytes(), (done_run / "model.safetensors").read_bytes())
    args = [a.format(toml=toml) for a in args]
    assert _main(["train", "--resume", str(done_run), "--epochs", "5", *args]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and named in err and "only --data-dir, --epochs, --early-stopping" in err, err
    assert captured.out == ""  # refused before anything was printed or written
    assert before == ((done_run / "config.json").read_bytes(), (done_run / "model.safetensors").read_bytes())


def test_resume_accepts_the_same_value_again(done_run, capsys):
    assert _main(["train", "--resume", str(done_run), "--lr", "0.003", "--seed", "0", "-q"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_resume_with_fewer_epochs_is_an_error_that_changes_nothing(done_run, capsys):
    before = (done_run / "config.json").read_bytes()
    assert _main(["train", "--resume", str(done_run), "--epochs", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "has already trained 3 epochs; --epochs 2 is fewer. Give --epochs 3 or more" in err
    assert (done_run / "config.json").read_bytes() == before
    assert json.loads(before)["epochs"] == 3


def test_resume_cannot_move_the_run(done_run, tmp_path, capsys):
    assert _main(["train", "--resume", str(done_run), "--out", str(tmp_path / "x")]) == 2
    assert "leave out --out and --name" in capsys.readouterr().err


@pytest.mark.parametrize("schedule, extra", [("none", {}), ("exponential", {"gamma": 0.7}),
                                             ("step", {"step_size": 2})])
def test_extending_a_run_whose_schedule_ignores_epochs_equals_the_longer_run(tmp_path, schedule, extra):
    cfg = TrainConfig(layers=[64, 8, 10], schedule=schedule, seed=2, **extra)
    longer = train(dataclasses.replace(cfg, epochs=4))
    train(dataclasses.replace(cfg, epochs=2, out=str(tmp_path)))
    extended = train(dataclasses.replace(cfg, epochs=4, out=str(tmp_path)), resume=tmp_path)
    assert _same({k: v.numpy() for k, v in longer.model.state_dict().items()}, _weights(tmp_path))
    assert [r["lr"] for r in extended.history] == [r["lr"] for r in longer.history]


def test_extending_a_cosine_run_says_what_the_schedule_does(tmp_path, capsys):
    out = tmp_path / "run"
    assert _main(["train", "--layers", "64,8,10", "--epochs", "2", "--lr", "0.01", "--out", str(out), "-q"]) == 0
    assert _main(["train", "--resume", str(out), "--epochs", "4"]) == 0
    text = capsys.readouterr().out
    assert ("note: the cosine schedule now spans 4 epochs instead of 2: epoch 3 runs at lr 0.005 (epoch 2 ran at "
            "0.005); epochs 1-2 keep the rates they had, so the weights will differ from a run started with "
            "--epochs 4") in text
    lrs = [float(line.split(",")[1]) for line in (out / "metrics.csv").read_text().splitlines()[1:]]
    np.testing.assert_allclose(lrs, [0.01, 0.005, 0.005, 0.01 * (1 + np.cos(np.pi * 3 / 4)) / 2])
    from chainrule.curves import title
    from chainrule.trainconfig import from_saved

    info = runs.read_model(out)[1]
    assert title(from_saved(info["config"], out), info["history"]).endswith(
        "cosine schedule over 2 epochs, from epoch 3 over 4 epochs")


def test_a_plain_resume_prints_no_schedule_note(tmp_path, capsys):
    cfg = TrainConfig(layers=[64, 8, 10], epochs=3, out=str(tmp_path))

    def stop(row):
        if row["epoch"] == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, on_epoch=stop)
    train(cfg, resume=tmp_path, verbose=True)
    assert "note:" not in capsys.readouterr().out


# ------------------------------------------------------------ real Ctrl-C, delivered to a real process
def _interrupt_at(stage: str, args: list[str], cwd: Path) -> tuple[int, str]:
    """Run `chainrule train ARGS` until it pauses at ``stage``, send it SIGINT, return (exit status, stderr)."""
    env = {**os.environ, "PYTHONPATH": SRC, PAUSE_ENV: stage}
    p = subprocess.Popen([sys.executable, "-m", "chainrule.cli", "train", *args], cwd=cwd, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in p.stderr:
        seen.append(line)
        if line.startswith(f"paused at {stage}"):
            break
    else:
        p.wait()
        raise AssertionError(f"never paused at {stage!r}: {''.join(seen)}")
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    return p.returncode, err


def _run(args, cwd):
    return subprocess.run([sys.executable, "-m", "chainrule.cli", "train", *args], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": SRC})


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("full") / "run"
    assert _main(["train", *SMALL, "--out", str(out), "-q"]) == 0
    return _weights(out)


def test_ctrl_c_in_the_first_epoch_leaves_a_run_that_resumes_exactly(tmp_path, uninterrupted):
    rc, err = _interrupt_at("epoch 1 batch 3", [*SMALL, "--out", "run", "-q"], tmp_path)
    assert rc == 130
    assert err.strip().splitlines()[-1] == ("interrupted in epoch 1; run keeps the checkpoint from before the "
                                            "first epoch; continue with: chainrule train --resume run")
    assert "Traceback" not in err
    assert runs.read_model(tmp_path / "run")[1]["epoch"] == 0
    p = _run(["--resume", "run", "-q"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert _same(_weights(tmp_path / "run"), uninterrupted)


def test_ctrl_c_in_a_later_epoch_names_the_checkpoint_kept(tmp_path, uninterrupted):
    rc, err = _interrupt_at("epoch 3 batch 1", [*SMALL, "--out", "run", "-q"], tmp_path)
    assert rc == 130 and "interrupted in epoch 3; run keeps the checkpoint after epoch 2" in err
    assert _run(["--resume", "run", "-q"], tmp_path).returncode == 0
    assert _same(_weights(tmp_path / "run"), uninterrupted)


def test_ctrl_c_while_reading_the_data_says_nothing_was_written(tmp_path):
    rc, err = _interrupt_at("data", [*SMALL, "--out", "run", "-q"], tmp_path)
    assert rc == 130 and err.strip().splitlines()[-1] == "interrupted before training started; nothing was written"
    assert not (tmp_path / "run").exists()


def test_ctrl_c_before_anything_is_saved_says_so(tmp_path, uninterrupted):
    rc, err = _interrupt_at("start", [*SMALL, "--out", "run", "-q"], tmp_path)
    assert rc == 130
    assert err.strip().splitlines()[-1] == ("interrupted before the first checkpoint was written: run holds nothing "
                                            "to resume; run the same command again")
    p = _run([*SMALL, "--out", "run", "-q"], tmp_path)  # the same command works, the folder is not "taken"
    assert p.returncode == 0, p.stderr
    assert _same(_weights(tmp_path / "run"), uninterrupted)


def test_ctrl_c_while_drawing_the_curves_keeps_the_finished_run(tmp_path, uninterrupted):
    rc, err = _interrupt_at("plot", [*SMALL, "--out", "run", "-q"], tmp_path)
    assert rc == 130
    assert ("interrupted while drawing curves.png; training is complete (3 epochs, checkpoint saved); draw the "
            "curves with: chainrule train --resume run") in err
    assert not (tmp_path / "run" / "curves.png").exists()
    leftovers = [p for p in (tmp_path / "run").iterdir() if p.name.startswith(".") and p.name != runs.LOCK_FILE]
    assert not leftovers  # no half-written picture
    assert _same(_weights(tmp_path / "run"), uninterrupted)
    p = _run(["--resume", "run"], tmp_path)
    assert p.returncode == 0 and "nothing to do" in p.stdout
    assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_a_run_saved_before_the_validation_split_existed_keeps_its_split(tmp_path):
    """Its config has no val_fraction: it trained on all 1,438 examples, and a resume must too."""
    from chainrule.io import load_metadata

    cfg = TrainConfig(layers=[64, 8, 10], schedule="none", val_fraction=0.0)
    full = train(dataclasses.replace(cfg, epochs=3))
    train(dataclasses.replace(cfg, epochs=2, out=str(tmp_path)))
    meta = load_metadata(tmp_path / "model.safetensors")
    old = json.loads(meta["config"])
    del old["val_fraction"]
    meta["config"] = json.dumps(old)
    cr.save(cr.load(tmp_path / "model.safetensors"), tmp_path / "model.safetensors", metadata=meta)
    assert _main(["train", "--resume", str(tmp_path), "--epochs", "3", "-q"]) == 0
    assert _same(_weights(tmp_path), {k: v.numpy() for k, v in full.model.state_dict().items()})
    assert json.loads((tmp_path / "config.json").read_text())["val_fraction"] == 0.0
