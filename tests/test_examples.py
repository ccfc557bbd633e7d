"""The scripts in examples/ run and do what they say."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_digits_learns(capsys):
    accuracy = load("train_digits").main(epochs=10)
    assert accuracy >= 0.95
    assert "test accuracy" in capsys.readouterr().out


def test_custom_function_passes_gradcheck(capsys):
    assert load("custom_function").main() is True
    assert "∂y/∂x = σ(x): True" in capsys.readouterr().out


def test_explain_xor_agrees_three_ways(tmp_path, capsys):
    page = tmp_path / "xor.html"
    explanation = load("explain_xor").main(str(page))
    assert explanation.agree
    assert "<svg" in page.read_text(encoding="utf-8")
    assert "agree three ways" in capsys.readouterr().out


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_every_example_is_tested_here(path):
    assert path.stem in {"train_digits", "custom_function", "explain_xor"}
