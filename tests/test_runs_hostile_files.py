"""Hostile run folders, second set: a file that is not what ``chainrule train`` writes is refused in one line.

Each row doctors one file of a real one-epoch run and runs ``evaluate`` or
``train --resume`` on it: the command must exit 2 with one line naming the
file and what is wrong, where before it evaluated or resumed quietly (int64
or NaN weights, an optimizer state with other betas, a scheduler state
standing at another epoch, ...), crashed (a NaN epoch in the history) or let
a planted link redirect a write outside the folder.
"""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli, runs
from chainrule.io import load_metadata
from chainrule.train import TrainConfig, train

ROW = {k: 0.5 for k in runs.METRICS}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("good") / "run"
    train(TrainConfig(epochs=1, layers=[64, 8, 10], out=str(out), schedule="cosine"))
    return out


@pytest.fixture
def run(good_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(good_run, copy, symlinks=True)
    (copy / runs.BEST_FILE).unlink()  # evaluate reads the last checkpoint, the one doctored
    return copy


def _resave(path, tensors=None, **meta):
    old = load_metadata(path)
    new = {k: v for k, v in {**old, **meta}.items() if v is not None}
    cr.save(cr.load(path) if tensors is None else tensors, path, metadata=new)


def _retype(path, dtype):
    _resave(path, {k: cr.tensor(v.numpy().astype(dtype)) for k, v in cr.load(path).items()})


def _fill(path, name_part, value):
    t = cr.load(path)
    _resave(path, {k: cr.tensor(np.full(v.shape, value, np.float32)) if name_part in k else v for k, v in t.items()})


def _state_edit(path, fn):
    state = json.loads(load_metadata(path)["state"])
    fn(state)
    _resave(path, state=json.dumps(state))


def _items(node, key):
    return next(item for item in node["@items"] if item[0] == key)


def _group(state):
    return _items(_items(state, "optimizer")[1], "param_groups")[1][0]


def _set_group(key, value):
    return lambda s: _items(_group(s), key).__setitem__(1, value)


def _set_sched(key, value):
    return lambda s: _items(_items(s, "scheduler")[1], key).__setitem__(1, value)


M, O = runs.MODEL_FILE, runs.STATE_FILE
CASES = {  # id: (file, doctor, command, what the one line must say)
    "int64-weights": (M, lambda p: _retype(p, np.int64), "evaluate", "is int64; chainrule train writes float32"),
    "float64-weights": (M, lambda p: _retype(p, np.float64), "resume", "is float64; chainrule train writes float32"),
    "bool-weights": (M, lambda p: _retype(p, np.bool_), "evaluate", "is bool; chainrule train writes float32"),
    "nan-weights": (M, lambda p: _fill(p, "0.weight", np.nan), "evaluate", "tensor '0.weight' holds NaN or inf"),
    "inf-weights": (M, lambda p: _fill(p, "2.bias", np.inf), "resume", "tensor '2.bias' holds NaN or inf"),
    "unicode-epoch": (M, lambda p: _resave(p, epoch="١"), "evaluate", "expected a number of epochs, got '١'"),
    "nan-history-epoch": (M, lambda p: _resave(p, history=json.dumps([{**ROW, "epoch": float("nan")}])), "evaluate",
                          "history[0].epoch: expected a whole number in [1, 1000000000], got float nan"),
    "inf-history-epoch": (M, lambda p: _resave(p, history=json.dumps([{**ROW, "epoch": 1e999}])), "resume",
                          "history[0].epoch: expected a whole number"),
    "history-epochs-skip": (M, lambda p: _resave(p, history=json.dumps([{**ROW, "epoch": 7}])), "evaluate",
                            "history: expected one row for each of epochs 1..1, got the epochs [7]"),
    "history-too-short": (M, lambda p: _resave(p, epoch="2"), "resume",
                          "history: expected one row for each of epochs 1..2, got the epochs [1]"),
    "duplicate-header-key": (M, lambda p: p.write_bytes(p.read_bytes().replace(b'"format"', b'"config"', 1)),
                             "evaluate", "the key 'config' appears twice"),
    "exp-avg-int": (O, lambda p: _resave(p, {k: cr.tensor(v.numpy().astype(np.int64)) if "exp_avg" in k else v
                                            for k, v in cr.load(p).items()}),
                    "resume", "chainrule train writes float32"),
    "exp-avg-nan": (O, lambda p: _fill(p, "0.exp_avg", np.nan), "resume", "holds NaN or inf"),
    "exp-avg-sq-negative": (O, lambda p: _fill(p, "exp_avg_sq", -1.0), "resume",
                            "holds negative values; it is a running average of squares"),
    "betas-changed": (O, lambda p: _state_edit(p, _set_group("betas", {"@tuple": [0.5, 0.5]})), "resume",
                      "the optimizer state has betas (0.5, 0.5) in group 0, but the run's settings give (0.9, 0.999)"),
    "eps-zero": (O, lambda p: _state_edit(p, _set_group("eps", 0.0)), "resume", "has eps 0.0 in group 0"),
    "lr-negative": (O, lambda p: _state_edit(p, _set_group("lr", -1.0)), "resume",
                    "learning rate -1.0 is not the cosine schedule's"),
    "lr-huge-int": (O, lambda p: _state_edit(p, _set_group("lr", 10**400)), "resume",
                    "option 'lr': expected a finite number, got int"),
    "scheduler-epoch-negative": (O, lambda p: _state_edit(p, _set_sched("last_epoch", -50)), "resume",
                                 "the scheduler state stands at epoch -50, but the checkpoint is of epoch 1"),
    "scheduler-T_max-changed": (O, lambda p: _state_edit(p, _set_sched("T_max", 9)), "resume",
                                "the scheduler state has T_max 9, but the run's settings give 1"),
    "scheduler-base-lrs": (O, lambda p: _state_edit(p, _set_sched("base_lrs", [0.1, 0.2])), "resume",
                           "the scheduler state has base_lrs [0.1, 0.2]"),
    "scheduler-dropped": (O, lambda p: _state_edit(p, lambda s: _items(s, "scheduler").__setitem__(1, None)),
                          "resume", "the run's schedule is cosine but the file holds no scheduler state"),
    "rng-has-uint32": (O, lambda p: _resave(p, rng=json.dumps({**json.loads(load_metadata(p)["rng"]),
                                                                "has_uint32": 7})),
                       "resume", "has_uint32: expected an integer in [0, 1], got int 7"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_doctored_run_file_is_one_line(run, capsys, case):
    name, doctor, command, msg = CASES[case]
    path = runs.checkpoint_dir(run) / name
    doctor(path)
    argv = ["evaluate", str(run), "--quiet"] if command == "evaluate" else \
        ["train", "--resume", str(run), "--quiet"]  # the same --epochs: the state must match the settings exactly
    before = sorted(p.name for p in (run / runs.CHECKPOINTS).iterdir())
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"chainrule {argv[0]}: error: "), err
    assert msg in err, err
    assert str(path) in err or str(run) in err, err
    assert sorted(p.name for p in (run / runs.CHECKPOINTS).iterdir()) == before  # nothing written


def test_a_best_checkpoint_that_is_a_folder_is_refused_not_skipped(run, capsys):
    (run / runs.BEST_FILE).mkdir()
    assert cli.main(["evaluate", str(run), "--quiet"]) == 2
    assert f"{run / runs.BEST_FILE}: no checkpoint here" in capsys.readouterr().err


# ------------------------------------------------------------ planted links: nothing outside the folder changes
@pytest.mark.parametrize("name", [runs.CONFIG_FILE, runs.METRICS_FILE, runs.BEST_FILE, runs.PLOT_FILE])
def test_a_planted_link_in_the_run_folder_is_replaced_not_followed(good_run, tmp_path, name):
    run = tmp_path / "run"
    shutil.copytree(good_run, run, symlinks=True)
    outside = tmp_path / "precious.txt"
    outside.write_bytes(b"mine")
    (run / name).unlink()
    (run / name).symlink_to(outside)
    train(TrainConfig(epochs=2, layers=[64, 8, 10], out=str(run), schedule="cosine"), resume=run)
    assert outside.read_bytes() == b"mine"
    assert not (run / name).is_symlink() and (run / name).stat().st_size > 0


def test_a_lock_file_linked_elsewhere_is_refused_and_the_target_kept(good_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(good_run, run, symlinks=True)
    outside = tmp_path / "precious.txt"
    outside.write_bytes(b"mine")
    (run / runs.LOCK_FILE).unlink()
    (run / runs.LOCK_FILE).symlink_to(outside)
    assert cli.main(["train", "--resume", str(run), "--epochs", "2", "--quiet"]) == 2
    assert "cannot open the run's lock file" in capsys.readouterr().err
    assert outside.read_bytes() == b"mine"


def test_a_checkpoints_folder_linked_elsewhere_is_never_pruned(good_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(good_run, run, symlinks=True)
    elsewhere = tmp_path / "elsewhere"
    shutil.move(run / runs.CHECKPOINTS, elsewhere)
    (elsewhere / "my-project").mkdir()
    (run / runs.CHECKPOINTS).symlink_to(elsewhere)
    assert cli.main(["train", "--resume", str(run), "--epochs", "2", "--quiet"]) == 2
    assert "not a folder of this run (a link or a file)" in capsys.readouterr().err
    assert sorted(p.name for p in elsewhere.iterdir()) == ["epoch-0000", "epoch-0001", "my-project"]


def test_pruning_removes_only_checkpoint_folders_it_made(tmp_path):
    from chainrule import nn, optim

    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    runs.save_checkpoint(tmp_path, model, opt, None, {}, 0, [])
    (tmp_path / runs.CHECKPOINTS / "notes").mkdir()
    for epoch in (1, 2, 3):
        runs.save_checkpoint(tmp_path, model, opt, None, {}, epoch, [])
    assert sorted(p.name for p in (tmp_path / runs.CHECKPOINTS).iterdir()) == ["epoch-0002", "epoch-0003", "notes"]
    assert os.readlink(tmp_path / runs.LAST) == f"{runs.CHECKPOINTS}/epoch-0003"
