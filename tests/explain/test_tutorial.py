"""docs/tutorial.md and docs/tutorial.zh.md run as written, and examples/tutorial.ipynb is the same tutorial.

Every ```python block runs, in order, in one namespace (so a block may use what an
earlier one defined); every ```console block's ``$ chainrule …`` lines run through the
CLI, and each other line of the block must appear in what the command printed
(whitespace-insensitive, so wrapping at 80 columns does not matter).  Both run in an
empty folder, as a new user's would.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = [ROOT / "docs" / "tutorial.md", ROOT / "docs" / "tutorial.zh.md"]
NOTEBOOK = ROOT / "examples" / "tutorial.ipynb"
sys.path.insert(0, str(ROOT / "scripts"))


def blocks(path: Path) -> list[tuple[str, int, str]]:
    """(language, line number, code) of every fenced block."""
    out = []
    for m in re.finditer(r"^```(\w+)\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M):
        out.append((m.group(1), path.read_text(encoding="utf-8")[:m.start()].count("\n") + 2, m.group(2)))
    return out


def squash(s: str) -> str:
    return " ".join(s.split())


def run_console(code: str, where: str) -> None:
    from chainrule.cli import main

    commands, expected = [], []
    for line in code.splitlines():
        if line.startswith("$ "):
            argv = shlex.split(line[2:])
            assert argv[0] == "chainrule", f"{where}: only chainrule commands run here: {line}"
            commands.append(argv[1:])
        elif line.strip():
            expected.append(line)
    printed = io.StringIO()
    for argv in commands:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            rc = main(argv)
        assert rc == 0, f"{where}: `chainrule {' '.join(argv)}` exited {rc}:\n{printed.getvalue()[-2000:]}"
    got = squash(printed.getvalue())
    for line in expected:
        assert squash(line) in got, f"{where}: the output has no line {line.strip()!r}"


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_every_block_of_the_tutorial_runs(path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    found = blocks(path)
    assert {lang for lang, _, _ in found} == {"python", "console"}
    namespace: dict = {"__name__": "tutorial"}
    for lang, line, code in found:
        where = f"{path.name}:{line}"
        if lang == "python":
            exec(compile(code, where, "exec"), namespace)
        else:
            run_console(code, where)
    assert (tmp_path / "backprop.html").is_file() and (tmp_path / "runs" / "digits" / "model.safetensors").is_file()


def test_both_languages_tell_the_same_steps_in_the_lecture_order():
    en, zh = ([(lang, code) for lang, _, code in blocks(p)] for p in TUTORIALS)
    assert [lang for lang, _ in en] == [lang for lang, _ in zh]
    # the Python is the same; the commands are the same but for --lang zh
    for (lang, a), (_, b) in zip(en, zh):
        if lang == "python":
            assert a == b
        else:
            cmds = lambda code: [ln.replace(" --lang zh", "") for ln in code.splitlines() if ln.startswith("$ ")]
            assert cmds(a) == cmds(b)
    heads = [re.findall(r"^## (\d+)\.", p.read_text(encoding="utf-8"), re.M) for p in TUTORIALS]
    assert heads[0] == heads[1] == [str(k) for k in range(1, 11)]
    text = TUTORIALS[0].read_text(encoding="utf-8")
    order = ["Gradient descent", "The chain rule", "One neuron: ∂z/∂w = x", "reversed network", "Case 1",
             "Case 2", "The total loss is a sum", "costs about as much as the forward pass", "Train on the digits",
             "The same chain rule in any graph"]
    assert [text.index(s) for s in order] == sorted(text.index(s) for s in order)


def test_the_notebook_is_the_tutorial():
    from tutorial_notebook import notebook

    assert json.loads(NOTEBOOK.read_text(encoding="utf-8")) == notebook(TUTORIALS[0]), \
        "examples/tutorial.ipynb is out of date: python scripts/tutorial_notebook.py"


def test_the_notebook_runs_in_a_kernel(tmp_path, monkeypatch):
    import os

    import nbformat
    from nbclient import NotebookClient

    # the kernel runs in tmp_path: it must import this checkout's chainrule, not whichever is installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "published in the lecture's slides: a = 0.98, 0.12 → 0.86, 0.11 → 0.62, 0.83" in text
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.get("output_type") == "error"]
    assert (tmp_path / "runs" / "digits" / "model.safetensors").is_file()


def test_the_chinese_tutorial_uses_chinese_punctuation():
    prose = re.sub(r"```.*?```", "", TUTORIALS[1].read_text(encoding="utf-8"), flags=re.S)
    han = "[\u4e00-\u9fff]"
    half = f'{han}[,:;!?"]|[,:;!?"]{han}|\\({han}|{han}\\)'
    bad = re.findall(f".{{0,8}}(?:{half}).{{0,8}}", prose)
    assert not bad, bad[:5]
