"""The ``chainrule train`` command line: artifacts, config file precedence, resume, and every bad-option path."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli
from chainrule.io import load_metadata

SMALL = ["--layers", "64,16,10", "--epochs", "2", "--quiet"]


def _main(argv) -> int:
    """cli.main, with argparse's own errors (SystemExit) turned into their exit status."""
    try:
        return cli.main(argv)
    except SystemExit as e:
        return e.code


def _weights(run):
    return {k: v.numpy() for k, v in cr.load(run / "model.safetensors").items()}


def test_train_command_writes_run_and_prints_epochs(tmp_path, capsys):
    out = tmp_path / "run"
    assert _main(["train", "--layers", "64,16,10", "--epochs", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    lines = [line for line in text.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 2 and all("loss" in s and "train" in s and "test" in s and s.endswith("s") for s in lines)
    assert "test accuracy" in text and f"chainrule evaluate {out}" in text
    for name in ("model.safetensors", "optimizer.safetensors", "metrics.csv", "curves.png", "config.json"):
        assert (out / name).stat().st_size > 0, name
    assert len((out / "metrics.csv").read_text().splitlines()) == 3


def test_quiet_prints_no_epoch_lines(tmp_path, capsys):
    assert _main(["train", *SMALL, "--out", str(tmp_path / "q")]) == 0
    assert "epoch 1/" not in capsys.readouterr().out


def test_default_run_folder_and_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert _main(["train", *SMALL]) == 0
    assert _main(["train", *SMALL, "--name", "mine"]) == 0
    folders = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert "mine" in folders and len(folders) == 2
    assert (tmp_path / "runs" / "mine" / "model.safetensors").exists()


def test_config_file_then_command_line_overrides(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('epochs = 1\nlr = 0.01\noptimizer = "sgd"\nmomentum = 0.9\nlayers = "64,12,10"\n')
    out = tmp_path / "run"
    assert _main(["train", "--config", str(toml), "--epochs", "2", "--out", str(out), "--quiet"]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert (cfg["epochs"], cfg["lr"], cfg["optimizer"], cfg["momentum"], cfg["layers"]) == (2, 0.01, "sgd", 0.9,
                                                                                          [64, 12, 10])
    assert _weights(out)["0.weight"].shape == (12, 64)


def test_same_seed_same_weights_through_the_command(tmp_path):
    for name in ("a", "b"):
        assert _main(["train", *SMALL, "--seed", "7", "--out", str(tmp_path / name)]) == 0
    assert _main(["train", *SMALL, "--seed", "8", "--out", str(tmp_path / "c")]) == 0
    a, b, c = (_weights(tmp_path / n) for n in "abc")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["0.weight"], c["0.weight"])


def test_resume_extends_a_run_to_the_weights_of_a_longer_one(tmp_path, capsys):
    common = ["--layers", "64,16,10", "--schedule", "none", "--quiet"]
    assert _main(["train", *common, "--epochs", "4", "--out", str(tmp_path / "full")]) == 0
    assert _main(["train", *common, "--epochs", "2", "--out", str(tmp_path / "part")]) == 0
    assert _main(["train", "--resume", str(tmp_path / "part"), "--epochs", "4", "--quiet"]) == 0
    full, part = _weights(tmp_path / "full"), _weights(tmp_path / "part")
    assert all(np.array_equal(full[k], part[k]) for k in full)
    assert len((tmp_path / "part" / "metrics.csv").read_text().splitlines()) == 5
    capsys.readouterr()
    assert _main(["train", "--resume", str(tmp_path / "part")]) == 0
    assert "nothing to do" in capsys.readouterr().out


def _bad_toml(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("learning_rate = 0.1\n")
    return str(p)


BAD = [
    (["--activation", "swish"], "unknown activation 'swish'"),
    (["--lr", "-1"], "lr must be > 0"),
    (["--lr", "abc"], "--lr must be a number, got 'abc'"),
    (["--epochs", "2.5"], "--epochs must be an integer, got '2.5'"),
    (["--layers", "64,x,10"], "layers must be comma-separated"),
    (["--layers", "32,10"], "input size 64"),
    (["--layers", "64"], "at least two"),
    (["--dataset", "mnist", "--data-dir", "{tmp}/nowhere"], "data folder not found"),
    (["--dataset", "mnist"], "needs --data-dir"),
    (["--dataset", "cifar"], "unknown dataset 'cifar'"),
    (["--optimizer", "lbfgs"], "unknown optimizer"),
    (["--loss", "hinge"], "unknown loss"),
    (["--schedule", "cyclic"], "unknown schedule"),
    (["--epochs", "0"], "epochs must be > 0"),
    (["--batch-size", "-4"], "batch_size must be > 0"),
    (["--momentum", "-0.5"], "momentum must be >= 0"),
    (["--betas", "0.9"], "betas must be two numbers"),
    (["--config", "{bad_toml}"], "unknown key 'learning_rate'"),
    (["--config", "{tmp}/missing.toml"], "config file not found"),
    (["--resume", "{tmp}/no-such-run"], "no checkpoint here"),
    (["--bogus"], "unrecognized arguments"),
    (["--test-fraction", "0.0001"], "test_fraction 0.0001 of 1797 examples leaves no test examples"),
    (["--val-fraction", "0.0001"], "val_fraction 0.0001 of 1438 training examples leaves no validation examples"),
]


@pytest.mark.parametrize("args, msg", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, args, msg):
    args = [a.format(tmp=tmp_path, bad_toml=_bad_toml(tmp_path)) for a in args]
    assert _main(["train", *args, "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    last = err.splitlines()[-1]
    assert msg in last, err
    if "unrecognized" not in msg:  # argparse's own errors print the usage line first
        assert len(err.splitlines()) == 1, err
        assert last.startswith("chainrule train: error: ")
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_refuses_to_overwrite_an_existing_run(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert _main(["train", *SMALL, "--out", out]) == 0
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    assert _main(["train", *SMALL, "--out", out]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before


def test_divergence_is_one_line_and_keeps_the_last_finite_epoch(tmp_path, capsys):
    out = tmp_path / "run"
    assert _main(["train", *SMALL, "--optimizer", "sgd", "--lr", "50", "--loss", "mse", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "diverged in epoch 1" in err and "smaller learning rate" in err
    from chainrule import runs

    assert runs.read_model(out)[1]["epoch"] == 0  # only the checkpoint from before the first epoch


def test_resume_cannot_change_the_architecture(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert _main(["train", *SMALL, "--out", out]) == 0
    assert _main(["train", "--resume", out, "--activation", "tanh", "--epochs", "3"]) == 2
    err = capsys.readouterr().err
    assert "cannot change --activation (relu in the run, tanh now)" in err and len(err.splitlines()) == 1


def test_unwritable_run_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    out = tmp_path / "file" / "run"
    assert _main(["train", *SMALL, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"chainrule train: error: cannot write {out}: ") and len(err.splitlines()) == 1, err


def test_resume_from_weights_that_do_not_fit_is_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert _main(["train", *SMALL, "--out", str(out)]) == 0
    tensors = cr.load(out / "model.safetensors")
    del tensors["2.bias"]
    cr.save(tensors, out / "model.safetensors", metadata=load_metadata(out / "model.safetensors"))
    assert _main(["train", "--resume", str(out), "--epochs", "3", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "the weights do not fit" in err and "missing 2.bias" in err, err


def test_resume_with_another_runs_optimizer_state_is_one_line(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert _main(["train", *SMALL, "--out", str(a)]) == 0
    assert _main(["train", *SMALL, "--out", str(b), "--layers", "64,8,10"]) == 0
    (a / "optimizer.safetensors").write_bytes((b / "optimizer.safetensors").read_bytes())
    assert _main(["train", "--resume", str(a), "--epochs", "3", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "optimizer.safetensors: the optimizer state does not fit the model" in err and "(8, 64)" in err, err


def _run(args, cwd, stderr_tty=False):
    cmd = [sys.executable, "-m", "chainrule.cli", *args]
    env = {**os.environ, "COLUMNS": "100"}
    if not stderr_tty:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
        return p.returncode, p.stdout, p.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    out = p.stdout.read().decode()
    p.wait()
    os.close(master)
    return p.returncode, out, b"".join(chunks).decode(errors="replace")


def test_real_entry_point_progress_bar_only_on_a_tty(tmp_path):
    args = ["train", "--layers", "64,16,10", "--epochs", "2", "--out"]
    code, out, err = _run([*args, "a"], tmp_path)
    assert code == 0 and "epoch 2/2" in out and err == ""
    code, out, err = _run([*args, "b"], tmp_path, stderr_tty=True)
    assert code == 0 and "epoch 2/2" in out
    assert "batch" in err and "%" in err  # tqdm's bar, on stderr
    code, out, err = _run(["train", "--lr", "0", "--out", "c"], tmp_path)
    assert code == 2 and err.strip() == "chainrule train: error: lr must be > 0, got 0.0"
