"""Scripts in PyTorch idiom run unchanged on both libraries (``import chainrule as torch``) and agree.

A script may say ``REQUIRES = ("feature", ...)`` for chainrule features that
another part of the project is still building; it is skipped, naming the
feature, until the probe below finds it, and runs from then on by itself.
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from alias import requirements, run

import chainrule as cr

SCRIPTS = sorted((Path(__file__).parent / "scripts").glob("*.py"))


def _max_dim_is_a_tuple() -> bool:
    try:
        return hasattr(cr.max(cr.zeros(2, 2), 1), "indices")
    except Exception:
        return False


PROBES = {
    "inplace_ops": lambda: "__isub__" in vars(cr.Tensor),
    "max_dim_tuple": _max_dim_is_a_tuple,
    "data_is_tensor": lambda: isinstance(cr.zeros(1).data, cr.Tensor),
    "tensor_to_device": lambda: _runs(lambda: cr.zeros(1).to(cr.device("cpu"))),
    "grad_sequences": lambda: _runs(lambda: _grad_of_lists()),
    "view": lambda: hasattr(cr.Tensor, "view"),
    "masked_fill": lambda: hasattr(cr.Tensor, "masked_fill"),
    "tril": lambda: hasattr(cr, "tril"),
    "split": lambda: hasattr(cr.Tensor, "split"),
    "contiguous": lambda: hasattr(cr.Tensor, "contiguous"),
    "creation_generator": lambda: _runs(lambda: cr.randn(2, generator=cr.Generator().manual_seed(0))),
    "creation_device": lambda: _runs(lambda: cr.arange(2, device="cpu")),
    "setitem_grad": lambda: _runs(_setitem_with_grad),
    "tensor_format": lambda: _runs(lambda: format(cr.tensor(1.0), ".2f")),
}


def _setitem_with_grad():
    x = cr.ones(2, requires_grad=True) * 2
    x[0] = 0.0


def _grad_of_lists():
    x = cr.ones(2, requires_grad=True)
    cr.autograd.grad([x * 2], [x], grad_outputs=[cr.ones(2)])


def _runs(fn) -> bool:
    try:
        fn()
        return True
    except Exception:
        return False


def _missing(script: Path) -> list:
    return [f for f in requirements(script) if not PROBES[f]()]


def assert_agree(ours, theirs, path="result", rtol=2e-4, atol=1e-5):
    """Numbers within float32 training tolerance, everything else exactly."""
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), path
        for k in theirs:
            assert_agree(ours[k], theirs[k], f"{path}[{k!r}]", rtol, atol)
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), f"{path}: {len(ours)} items, PyTorch {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_agree(a, b, f"{path}[{i}]", rtol, atol)
    elif isinstance(theirs, bool) or isinstance(theirs, str) or theirs is None:
        assert ours == theirs, f"{path}: {ours!r} != PyTorch's {theirs!r}"
    elif isinstance(theirs, int):
        assert ours == theirs and isinstance(ours, int), f"{path}: {ours!r} != PyTorch's {theirs!r}"
    else:
        assert isinstance(ours, float), f"{path}: {type(ours).__name__}, PyTorch gives a float"
        assert math.isclose(ours, theirs, rel_tol=rtol, abs_tol=atol), f"{path}: {ours} != PyTorch's {theirs}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_script_agrees_with_pytorch(script):
    missing = _missing(script)
    if missing:
        pytest.skip(f"waits for chainrule features: {', '.join(missing)}")
    theirs = run(script, "torch")
    ours = run(script, "chainrule")
    assert_agree(ours, theirs)


def test_the_alias_really_swaps_the_library(tmp_path):
    s = tmp_path / "which.py"
    s.write_text("import torch\nimport torch.nn.functional as F\n\ndef main():\n"
                 "    return {'name': torch.__name__, 'F': F.__name__}\n")
    assert run(s, "chainrule") == {"name": "chainrule", "F": "chainrule.nn.functional"}
    assert run(s, "torch") == {"name": "torch", "F": "torch.nn.functional"}


@pytest.mark.parametrize("ours, theirs", [
    ({"a": [1.0, 2.0]}, {"a": [1.0, 2.1]}),
    ({"a": 1}, {"a": 1.0}),
    ({"a": 1.0}, {"a": 1}),
    ({"a": "x"}, {"a": "y"}),
    ({"a": [1.0]}, {"a": [1.0, 2.0]}),
    ({"b": 1}, {"a": 1}),
])
def test_the_comparison_catches_differences(ours, theirs):
    with pytest.raises(AssertionError):
        assert_agree(ours, theirs)
