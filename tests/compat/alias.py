"""Run a script written for PyTorch with ``import torch`` answered by chainrule (``import chainrule as torch``).

A meta-path finder maps ``torch`` and every ``torch.x.y`` to ``chainrule.x.y``
while the script runs; the real torch modules are put back afterwards, so
the same test process can run the script on both libraries.
"""
from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.abc
import importlib.util
import runpy
import sys
from pathlib import Path


class _ChainruleAsTorch(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == "torch" or fullname.startswith("torch."):
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module("chainrule" + spec.name[len("torch"):])

    def exec_module(self, module):
        pass  # already imported as chainrule


@contextlib.contextmanager
def chainrule_as_torch():
    saved = {k: m for k, m in sys.modules.items() if k == "torch" or k.startswith("torch.")}
    for k in saved:
        del sys.modules[k]
    finder = _ChainruleAsTorch()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for k in [k for k in sys.modules if k == "torch" or k.startswith("torch.")]:
            del sys.modules[k]
        sys.modules.update(saved)


def run(script: Path, library: str) -> dict:
    """``main()`` of ``script`` run with the real torch (``library="torch"``) or chainrule in its place."""
    if library == "torch":
        return runpy.run_path(str(script))["main"]()
    with chainrule_as_torch():
        return runpy.run_path(str(script))["main"]()


def requirements(script: Path) -> tuple:
    """The script's ``REQUIRES = (...)``: chainrule features it waits for (none: it must run today)."""
    for node in ast.parse(script.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "REQUIRES" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    return ()
