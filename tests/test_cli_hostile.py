"""Hostile command lines and settings files: one line, exit status 2, naming the option or file.

Before these fixes each row escaped as a traceback (ValueError "embedded null
byte", UnicodeDecodeError, RecursionError, OSError "File name too long",
numpy's "Unable to allocate") or was quietly taken as the default (``--out ''``,
``explain --layers ''``).
"""
from __future__ import annotations

import pytest

from chainrule import cli

TRAIN = ["train", "--epochs", "1", "--quiet", "--layers", "64,4,10"]
ROWS = {  # id: (argv, what the error line says)
    "train-name-nul": (TRAIN + ["--name", "a\0b"], "argument 'a\\x00b' contains a NUL byte"),
    "train-out-nul": (TRAIN + ["--out", "r\0"], "contains a NUL byte"),
    "train-data-nul": (TRAIN + ["--data", "x\0.npz"], "contains a NUL byte"),
    "train-config-nul": (["train", "--config", "c\0.toml"], "contains a NUL byte"),
    "train-resume-nul": (["train", "--resume", "r\0"], "contains a NUL byte"),
    "evaluate-json-nul": (["evaluate", "run", "--json", "a\0"], "contains a NUL byte"),
    "explain-html-nul": (["explain", "--html", "a\0.html"], "contains a NUL byte"),
    "train-out-empty": (TRAIN + ["--out", ""], "--out must be a non-empty name without NUL bytes, got ''"),
    "train-data-empty": (TRAIN + ["--data", " "], "--data must be a non-empty name without NUL bytes, got ' '"),
    "train-model-empty": (TRAIN + ["--model", ""], "--model must be a non-empty name"),
    "train-activation-long": (TRAIN + ["--activation", "x" * 100_000],
                              "unknown activation 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... "
                              "(100002 characters)"),
    "evaluate-json-empty": (["evaluate", "run", "--json", ""], "--json needs a file name, got ''"),
    "evaluate-path-too-long": (["evaluate", "x" * 5000], "File name too long"),
    "explain-layers-empty": (["explain", "--layers", ""], "--layers '': expected sizes like 2,2,2,2"),
    "explain-huge-layer": (["explain", "--layers", "2,2000000000,2", "-q"],
                           "explaining layers 2,2000000000,2 on 1 example(s) needs about 596.0 GiB of memory"),
    "explain-huge-examples": (["explain", "--seed", "1", "--examples", "1000000000", "-q"],
                              "on 1000000000 example(s) needs about 476.8 GiB of memory"),
}


@pytest.fixture(autouse=True)
def _plenty_of_memory_but_not_that_much(monkeypatch):
    from chainrule import memory

    monkeypatch.setattr(memory, "available", lambda: 64 << 30)  # the same answer on every machine


@pytest.mark.parametrize("case", ROWS, ids=list(ROWS))
def test_a_hostile_option_is_one_line(tmp_path, monkeypatch, capsys, case):
    monkeypatch.chdir(tmp_path)
    argv, msg = ROWS[case]
    assert cli.main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    if lines[0].startswith("usage:"):  # argparse's own refusal: the usage, then the one error line
        lines = lines[1:]
    assert len(lines) == 1 and lines[0].startswith("chainrule"), lines
    assert msg in lines[0], lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing written


TOML = {
    "not-utf8": (b"\xff\xfe\x00", "invalid TOML ('utf-8' codec can't decode byte 0xff"),
    "nested-5000-deep": (b"a = " + b"[" * 5000 + b"]" * 5000, "invalid TOML (arrays or tables nested too deeply)"),
    "nul-in-name": (b'name = "a\\u0000b"', "name must be a non-empty name without NUL bytes, got 'a\\x00b'"),
    "empty-out": (b'out = ""', "out must be a non-empty name without NUL bytes, got ''"),
}


@pytest.mark.parametrize("case", TOML, ids=list(TOML))
def test_a_hostile_settings_file_is_one_line(tmp_path, monkeypatch, capsys, case):
    monkeypatch.chdir(tmp_path)
    text, msg = TOML[case]
    (tmp_path / "c.toml").write_bytes(text)
    assert cli.main(["train", "--config", "c.toml", "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("chainrule train: error: c.toml: "), err
    assert msg in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]
