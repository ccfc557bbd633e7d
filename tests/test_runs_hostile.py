"""Hostile files and paths: nothing read from a run folder is used before it is checked.

Each crafted file must give one clear chainrule error (one line and exit
status 2 on the command line), never a KeyError/AttributeError/RecursionError
from inside, an overwritten method, or a network allocated from a claim.
"""
from __future__ import annotations

import json
import os
import shutil
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli, runs
from chainrule.io import load_metadata
from chainrule.optim import OptimizerStateError
from chainrule.train import TrainConfig, train

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("good") / "run"
    train(TrainConfig(epochs=1, layers=[64, 8, 10], out=str(out), optimizer="adam", schedule="step"))
    return out


@pytest.fixture
def run(good_run, tmp_path):
    """A private copy of a one-epoch run (symlinks kept), to doctor."""
    copy = tmp_path / "run"
    shutil.copytree(good_run, copy, symlinks=True)
    return copy


def _rewrite(path, tensors=None, **meta_changes):
    """Re-save a safetensors file (through the run's symlink) with some metadata replaced or removed."""
    tensors = cr.load(path) if tensors is None else tensors
    meta = load_metadata(path)
    for k, v in meta_changes.items():
        if v is None:
            meta.pop(k, None)
        else:
            meta[k] = v
    cr.save(tensors, path, metadata=meta)


def _state(run) -> tuple[dict, dict]:
    p = run / runs.STATE_FILE
    meta = load_metadata(p)
    return json.loads(meta["state"]), json.loads(meta["rng"])


def _cli_error(capsys, argv) -> str:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"chainrule {argv[0]}: error: "), err
    return err


def _resume_error(capsys, run) -> str:
    return _cli_error(capsys, ["train", "--resume", str(run), "--epochs", "2", "--quiet"])


# ------------------------------------------------------------ deep JSON
@pytest.mark.parametrize("key", ["config", "history"])
def test_checkpoint_metadata_nested_100000_deep(run, capsys, key):
    _rewrite(run / runs.MODEL_FILE, **{key: DEEP})
    with pytest.raises(cr.DataError, match="nested more than 64 levels"):
        runs.read_model(run)
    assert "nested more than 64 levels" in _cli_error(capsys, ["evaluate", str(run), "--checkpoint", "last"])
    assert "nested more than 64 levels" in _resume_error(capsys, run)
    assert "nested more than 64 levels" in _cli_error(capsys, ["explain", "--checkpoint", str(run), "--weight",
                                                              "0.weight[0,0]", "--quiet"])


@pytest.mark.parametrize("key", ["state", "rng"])
def test_optimizer_metadata_nested_100000_deep(run, capsys, key):
    _rewrite(run / runs.STATE_FILE, **{key: DEEP})
    assert "nested more than 64 levels" in _resume_error(capsys, run)


def test_optimizer_skeleton_nested_just_under_the_json_limit(run, capsys):
    deep = {"@tuple": [1]}
    for _ in range(20):
        deep = {"@tuple": [deep]}
    _rewrite(run / runs.STATE_FILE, state=json.dumps({"@items": [["optimizer", deep], ["scheduler", None]]}))
    assert "state nested more than 8 levels deep" in _resume_error(capsys, run)


def test_explain_weights_json_nested_100000_deep(tmp_path, capsys):
    p = tmp_path / "w.json"
    p.write_text('{"layers": ' + DEEP + "}")
    err = _cli_error(capsys, ["explain", "--weights", str(p), "--quiet"])
    assert "nested more than 64 levels" in err and str(p) in err


def test_a_deep_json_string_is_not_mistaken_for_nesting():
    text = json.dumps({"note": "[" * 1000})
    assert cr.schema.load_json(text, "x") == {"note": "[" * 1000}


# ------------------------------------------------------------ crafted optimizer.safetensors
def _with_state(run, edit) -> None:
    skeleton, rng = _state(run)
    edit(skeleton, rng)
    _rewrite(run / runs.STATE_FILE, state=json.dumps(skeleton), rng=json.dumps(rng))


def _items(skeleton, key):
    """The value under ``key`` of an @items object (optimizer/scheduler skeletons are nested @items)."""
    return next(v for k, v in skeleton["@items"] if k == key)


@pytest.mark.parametrize("missing", ["state", "rng", "epoch"])
def test_optimizer_file_missing_metadata(run, capsys, missing):
    _rewrite(run / runs.STATE_FILE, **{missing: None})
    assert f"missing '{missing}'" in _resume_error(capsys, run)


@pytest.mark.parametrize("edit, msg", [
    (lambda s, r: s.update({"@items": []}), "missing 'optimizer'"),
    (lambda s, r: s.update({"@items": [["optimizer", [1, 2]], ["scheduler", None]]}), "optimizer: expected an object"),
    (lambda s, r: _items(_items(s, "optimizer"), "param_groups").clear(), "0 parameter groups"),
    (lambda s, r: _items(_items(_items(s, "optimizer"), "state"), 0)["@items"].pop(1),
     "lacks 'exp_avg_sq'"),
    (lambda s, r: _items(_items(_items(s, "optimizer"), "state"), 0)["@items"].append(["exp_avg_sq", "x"]),
     "'exp_avg_sq' must be a tensor"),
    (lambda s, r: _items(_items(s, "optimizer"), "param_groups")[0]["@items"].__setitem__(0, ["lr", "fast"]),
     "option 'lr': expected a finite number"),
    (lambda s, r: _items(_items(s, "optimizer"), "param_groups")[0]["@items"].__setitem__(0, ["lr", None]),
     "option 'lr': expected a finite number"),
    (lambda s, r: s["@items"][0][1]["@items"].__setitem__(0, ["state", {"@tensor": "nope"}]),
     "refers to a tensor 'nope'"),
    (lambda s, r: s["@items"][0][1]["@items"].__setitem__(0, ["state", {"@eval": "os.system"}]),
     "unknown state object"),
], ids=["no-optimizer", "optimizer-list", "no-groups", "missing-exp_avg", "string-buffer", "lr-string", "lr-none",
        "dangling-tensor", "unknown-tag"])
def test_crafted_optimizer_state_is_one_line(run, capsys, edit, msg):
    _with_state(run, edit)
    err = _resume_error(capsys, run)
    assert msg in err and runs.STATE_FILE in err, err


@pytest.mark.parametrize("rng, msg", [
    ({"bit_generator": "MT19937", "state": {"key": [0] * 624, "pos": 0}}, "not a PCG64 state"),
    ("PCG64", "not a PCG64 state"),
    ({"bit_generator": "PCG64", "state": {"state": "1", "inc": 1}, "has_uint32": 0, "uinteger": 0},
     "expected an integer"),
    ({"bit_generator": "PCG64", "state": {"state": 1}, "has_uint32": 0, "uinteger": 0}, "expected the keys"),
    ({"bit_generator": "PCG64", "state": {"state": 1, "inc": 1}, "has_uint32": 0, "uinteger": 0, "x": 1},
     "expected the keys"),
], ids=["foreign", "string", "wrong-type", "missing", "extra"])
def test_foreign_or_malformed_rng_state(run, capsys, rng, msg):
    _rewrite(run / runs.STATE_FILE, rng=json.dumps(rng))
    err = _resume_error(capsys, run)
    assert msg in err, err


def test_rng_state_out_of_range_is_a_data_error():
    state = cr.random.generator().bit_generator.state
    bad = {**state, "state": {"state": -1, "inc": 2**200}}
    with pytest.raises(cr.DataError, match=r"f.state.state: expected an integer in \[0, 3402"):
        runs.restore_rng(bad, "f")
    assert cr.random.generator().bit_generator.state == state


@pytest.mark.parametrize("extra, msg", [
    (["get_lr", 0.5], "unknown keys ['get_lr']"),
    (["__class__", "x"], "unknown keys ['__class__']"),
    (["optimizer", None], "unknown keys ['optimizer']"),
    (["last_epoch", "1"], "'last_epoch': expected an integer"),
    (["base_lrs", [0.1, "0.2"]], "'base_lrs'[1]: expected a finite number"),
    (["gamma", True], "'gamma': expected a finite number"),
], ids=["method", "dunder", "optimizer", "string-epoch", "list-length", "bool-gamma"])
def test_crafted_scheduler_state_is_refused(run, capsys, extra, msg):
    def edit(s, r):
        items = _items(s, "scheduler")["@items"]
        items[:] = [kv for kv in items if kv[0] != extra[0]] + [extra]

    _with_state(run, edit)
    err = _resume_error(capsys, run)
    assert msg in err and "scheduler state does not fit StepLR" in err, err


def test_scheduler_load_state_dict_cannot_replace_methods():
    opt = cr.optim.SGD([cr.nn.Parameter(cr.ones(2))], lr=0.1)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2)
    state = sched.state_dict()
    with pytest.raises(OptimizerStateError, match="unknown keys"):
        sched.load_state_dict({**state, "get_lr": "boom", "step": 3})
    assert callable(sched.get_lr) and sched.state_dict() == state
    sched.load_state_dict(state)  # its own state loads
    assert sched.state_dict() == state


def test_optimizer_load_state_dict_refuses_before_changing_anything():
    p = cr.nn.Parameter(cr.ones(3))
    opt = cr.optim.Adam([p], lr=0.1)
    p.grad = cr.ones(3)
    opt.step()
    good = opt.state_dict()
    before = {k: v.numpy().copy() for k, v in opt.state[p].items()}
    for bad in (
        {"state": good["state"], "param_groups": [{**good["param_groups"][0], "betas": (0.9,)}]},
        {"state": good["state"], "param_groups": [{**good["param_groups"][0], "amsgrad": 1}]},
        {"state": {0: {**good["state"][0], "exp_avg": cr.ones(4)}}, "param_groups": good["param_groups"]},
        {"state": {0: {**good["state"][0], "step": cr.ones(2)}}, "param_groups": good["param_groups"]},
        {"state": {5: good["state"][0]}, "param_groups": good["param_groups"]},
        {"state": {True: good["state"][0]}, "param_groups": good["param_groups"]},
        {"state": [], "param_groups": good["param_groups"]},
        {"state": good["state"], "param_groups": [{"params": ["a"]}]},
        {"state": good["state"], "param_groups": "x"},
    ):
        with pytest.raises(OptimizerStateError):
            opt.load_state_dict(bad)
        assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["betas"] == (0.9, 0.999)
        assert {k: v.numpy() for k, v in opt.state[p].items()}.keys() == before.keys()
    ignored = {"state": good["state"], "param_groups": [{**good["param_groups"][0], "foreach": None, "lr": 0.5}]}
    opt.load_state_dict(ignored)  # PyTorch's extra options are ignored; known ones are taken
    assert opt.param_groups[0]["lr"] == 0.5 and "foreach" not in opt.param_groups[0]


# ------------------------------------------------------------ claims checked before allocation
def test_a_tiny_checkpoint_claiming_a_huge_network_is_refused_before_building(run, capsys):
    meta = load_metadata(run / runs.MODEL_FILE)
    config = json.loads(meta["config"])
    config["layers"] = [64, 2_000_000_000, 10]
    _rewrite(run / runs.MODEL_FILE, config=json.dumps(config))
    t0 = time.perf_counter()
    err = _cli_error(capsys, ["evaluate", str(run), "--checkpoint", "last"])
    assert "0.weight (8, 64) (config: (2000000000, 64))" in err, err
    err = _resume_error(capsys, run)
    assert "0.weight (8, 64) (config: (2000000000, 64))" in err, err
    assert time.perf_counter() - t0 < 30  # nothing of 477 GiB was touched (a generous bound, not a timing test)


def test_metadata_epoch_and_history_are_checked(run, capsys):
    last = ["evaluate", str(run), "--checkpoint", "last"]
    _rewrite(run / runs.MODEL_FILE, epoch="1e9")
    assert "expected a number of epochs, got '1e9'" in _cli_error(capsys, last)
    _rewrite(run / runs.MODEL_FILE, epoch="1", history=json.dumps([{"epoch": 1}]))
    assert "history[0]: missing 'lr'" in _cli_error(capsys, last)
    _rewrite(run / runs.MODEL_FILE, history=json.dumps([{k: "x" for k in runs.METRICS}]))
    assert "history[0].epoch: expected a whole number in [1, 1000000000], got str 'x'" in _cli_error(capsys, last)


# ------------------------------------------------------------ run names
@pytest.mark.parametrize("name", ["..", ".", "../../x", "a/b", "/tmp/abs", ""])
def test_a_run_name_is_one_path_component(tmp_path, capsys, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.json").write_text("mine")
    err = _cli_error(capsys, ["train", "--name", name, "--epochs", "1", "--quiet"])
    assert err.startswith("chainrule train: error: --name must be a "), err
    assert (tmp_path / "config.json").read_text() == "mine"
    assert sorted(os.listdir(tmp_path)) == ["config.json"]


def test_a_plain_run_name_works(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--name", "exp-1.b", "--epochs", "1", "--layers", "64,4,10", "--quiet"]) == 0
    assert runs.read_model(tmp_path / "runs" / "exp-1.b")[1]["epoch"] == 1


def test_cr_load_of_a_structure_nested_100000_deep(tmp_path):
    """A nested checkpoint's structure JSON (cr.save of a dict of dicts) from a hostile file."""
    p = tmp_path / "ckpt.safetensors"
    cr.save({"a": {"b": cr.ones(2)}, "epoch": 3}, p)
    assert cr.load(p)["epoch"] == 3
    from safetensors.numpy import save_file

    from chainrule.io import STRUCTURE_KEY

    assert STRUCTURE_KEY in load_metadata(p)
    save_file({"x": np.ones(2, np.float32)}, str(p), metadata={STRUCTURE_KEY: DEEP})
    with pytest.raises(cr.DataError, match="nested more than 64 levels"):
        cr.load(p)
