"""Write examples/tutorial.ipynb from docs/tutorial.md, so the two never differ.

    python scripts/tutorial_notebook.py

Prose becomes Markdown cells, ```python blocks code cells, and each ``$ chainrule …``
line of a ```console block a call of ``chainrule.cli.main`` (a notebook has no shell
it can count on).  tests/explain/test_tutorial.py checks the notebook is up to date
and runs it in a Jupyter kernel.
"""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cell(kind: str, text: str, n: int) -> dict:
    cell = {"cell_type": kind, "id": f"cell-{n}", "metadata": {}, "source": text.strip("\n").splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _console(code: str) -> str:
    calls = [shlex.split(line[2:])[1:] for line in code.splitlines() if line.startswith("$ ")]
    return "from chainrule.cli import main\n\n" + "\n".join(f"main({argv!r})" for argv in calls) + "\n"


def notebook(md: Path) -> dict:
    text = md.read_text(encoding="utf-8")
    cells, at = [], 0
    for m in re.finditer(r"^```(\w+)\n(.*?)^```\n?", text, re.S | re.M):
        if text[at:m.start()].strip():
            cells.append(_cell("markdown", text[at:m.start()], len(cells)))
        cells.append(_cell("code", m.group(2) if m.group(1) == "python" else _console(m.group(2)), len(cells)))
        at = m.end()
    if text[at:].strip():
        cells.append(_cell("markdown", text[at:], len(cells)))
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                        "name": "python3"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


if __name__ == "__main__":
    out = ROOT / "examples" / "tutorial.ipynb"
    out.write_text(json.dumps(notebook(ROOT / "docs" / "tutorial.md"), ensure_ascii=False, indent=1) + "\n",
                   encoding="utf-8")
    print(f"wrote {out}")
