"""The options of `chainrule train`: one declaration behind argparse, TOML and validation; seeds; paths; -q; bench."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli
from chainrule.trainconfig import FIELDS, OPTIONS, ConfigError, TrainConfig, load_toml, seed_for_numpy, validate

SRC = str(Path(__file__).resolve().parents[1] / "src")
SMALL = ["--layers", "64,8,10", "--epochs", "1", "-q"]


def _main(argv) -> int:
    try:
        return cli.main(argv)
    except SystemExit as e:
        return e.code


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_setting_is_an_option_and_a_toml_key_and_nothing_else(tmp_path):
    train_parser = _subparsers()["train"]
    flags = {s for a in train_parser._actions for s in a.option_strings}
    for name in FIELDS:
        assert "--" + name.replace("_", "-") in flags, name
    extra = {s for s in flags if s.startswith("--")} - {"--" + n.replace("_", "-") for n in FIELDS}
    assert extra == {"--help", "--config", "--resume", "--quiet", "--distributed", "--no-nesterov"}
    # every key in a TOML file, with a value different from its default, is read into the same field
    values = {"model": "cnn", "dataset": "file", "data": "d.npz", "test_fraction": 0.3, "val_fraction": 0.2,
              "channels": [4, 8], "activation": "tanh", "loss": "mse", "optimizer": "sgd", "lr": 0.1,
              "momentum": 0.5, "nesterov": True, "weight_decay": 0.001, "schedule": "step", "step_size": 2,
              "gamma": 0.5, "batch_size": 8, "epochs": 3, "early_stopping": 2, "seed": -7, "name": "mine",
              "out": "o", "target": None, "data_dir": None, "layers": None, "betas": [0.9, 0.999], "eps": 1e-8,
              "alpha": 0.99}
    assert set(values) == set(FIELDS)
    lines = [f"{k} = {json.dumps(v)}" for k, v in values.items() if v is not None]
    (tmp_path / "all.toml").write_text("\n".join(lines) + "\n")
    cfg = load_toml(tmp_path / "all.toml")
    for k, v in values.items():
        expected = str(tmp_path / v) if k == "data" else v
        assert getattr(cfg, k) == expected, k


def test_toml_name_names_the_run_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text('name = "from-toml"\nepochs = 1\nlayers = [64, 8, 10]\n')
    assert _main(["train", "--config", "c.toml", "-q"]) == 0
    assert (tmp_path / "runs" / "from-toml" / "model.safetensors").exists()


@pytest.mark.parametrize("key", ["resume", "config", "quiet"])
def test_command_line_only_keys_in_toml_are_named(tmp_path, key):
    (tmp_path / "c.toml").write_text(f'{key} = "x"\n')
    with pytest.raises(ConfigError, match=f"unknown key '{key}' \\(a command-line option only\\)"):
        load_toml(tmp_path / "c.toml")


def test_validation_comes_from_the_declaration():
    """Each bounded option refuses the value just outside its bound, with its own name in the message."""
    for name, opt in OPTIONS.items():
        if opt.low is None or name in ("seed",):
            continue
        bad = opt.low if opt.low_open else opt.low - 1
        if FIELDS[name].type.startswith("list"):
            bad = [bad, bad]
        if opt.only_with:
            setting, allowed = opt.only_with
            cfg = TrainConfig(**{setting: allowed[0], name: bad})
        else:
            cfg = TrainConfig(**{name: bad})
        with pytest.raises(ConfigError, match=f"^{name} must be "):
            validate(cfg)


def test_negative_seed_is_accepted_as_pytorch_reads_it(tmp_path):
    torch = pytest.importorskip("torch")
    assert seed_for_numpy(-1) == torch.manual_seed(-1).initial_seed() == 2**64 - 1
    assert seed_for_numpy(-5) == torch.manual_seed(-5).initial_seed()
    assert _main(["train", *SMALL, "--seed", "-1", "--out", str(tmp_path / "neg")]) == 0
    assert _main(["train", *SMALL, "--seed", str(2**64 - 1), "--out", str(tmp_path / "pos")]) == 0
    a, b = (cr.load(tmp_path / n / "model.safetensors") for n in ("neg", "pos"))
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    assert json.loads((tmp_path / "neg" / "config.json").read_text())["seed"] == -1


def test_momentum_with_adam_is_an_error_like_nesterov(tmp_path, capsys):
    for opt in (["--momentum", "0.9"], ["--nesterov"]):
        assert _main(["train", *SMALL, *opt, "--out", str(tmp_path / "r")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "applies to --optimizer sgd" in err and "not adam" in err, err
    assert not (tmp_path / "r").exists()


def _idx(arr, code=0x08):
    import struct

    return bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def _fake_mnist(folder: Path, n_train=64, n_test=32):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        labels[:10] = np.arange(10)
        images = np.zeros((n, 28, 28), np.uint8)
        images[np.arange(n), 2 * labels + 2, 2 * labels + 2] = 255
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(_idx(images))
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(_idx(labels))


def test_relative_data_dir_is_stored_absolute_and_evaluate_works_elsewhere(tmp_path):
    _fake_mnist(tmp_path / "work" / "mnist")
    (tmp_path / "elsewhere").mkdir()
    env = {**os.environ, "PYTHONPATH": SRC}
    p = subprocess.run([sys.executable, "-m", "chainrule.cli", "train", "--dataset", "mnist", "--data-dir", "mnist",
                        "--epochs", "1", "--out", "run", "-q"], cwd=tmp_path / "work", env=env, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    saved = json.loads((tmp_path / "work" / "run" / "config.json").read_text())["data_dir"]
    assert saved == str((tmp_path / "work" / "mnist").resolve())
    p = subprocess.run([sys.executable, "-m", "chainrule.cli", "evaluate", str(tmp_path / "work" / "run")],
                       cwd=tmp_path / "elsewhere", env=env, capture_output=True, text=True)
    assert p.returncode == 0 and "accuracy" in p.stdout, p.stderr


def test_relative_paths_in_a_toml_file_are_taken_from_its_folder(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "c.toml").write_text('dataset = "mnist"\ndata_dir = "../mnist"\n')
    cfg = load_toml(tmp_path / "conf" / "c.toml")
    assert cfg.data_dir == str((tmp_path / "mnist").resolve())


def test_every_subcommand_takes_q():
    subs = _subparsers()
    assert set(subs) >= {"train", "evaluate", "explain", "bench"}
    for name, p in subs.items():
        flags = {s for a in p._actions for s in a.option_strings}
        assert {"-q", "--quiet"} <= flags, name


# ------------------------------------------------------------ chainrule bench
def test_bench_outside_a_checkout_says_what_it_needs(monkeypatch, capsys):
    from chainrule import bench

    monkeypatch.setattr(bench, "_suite_root", lambda: None)
    assert _main(["bench"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "benchmarks/ folder of a chainrule source checkout" in err
    assert "pip install -e '.[test,bench]'" in err


def test_bench_with_a_missing_framework_is_one_line_before_any_work(monkeypatch, capsys):
    import importlib.util

    from chainrule import bench

    if bench._suite_root() is None:
        pytest.skip("not a source checkout")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    import benchmarks.runner as runner

    monkeypatch.setattr(runner, "run_job", lambda *a: pytest.fail("a worker was started"))
    assert _main(["bench", "--quick", "--frameworks", "chainrule,torch,numpy"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("chainrule bench: error: torch not installed: pip install -e '.[test,bench]' "
                   "(or leave it out: --frameworks chainrule,numpy)")


def test_bench_exits_non_zero_when_a_worker_fails(monkeypatch, capsys):
    from chainrule import bench

    if bench._suite_root() is None:
        pytest.skip("not a source checkout")
    import benchmarks.runner as runner

    monkeypatch.setattr(runner, "run_job", lambda fw, job, *a: {"framework": fw, "job": job, "error": "boom"})
    assert _main(["bench", "--configs", "a", "--frameworks", "numpy", "--no-overhead", "--rounds", "1", "-q"]) == 1
    captured = capsys.readouterr()
    assert "a numpy: failed: boom" in captured.out
    assert captured.err.strip() == "benchmarks: 1 worker process(es) failed (see 'failed:' above)"
