"""Checks of the plain arguments of public constructors (sizes, rates, seeds), with errors naming the owner.

Layers, optimizers, schedulers and loaders call these instead of ``int(x)``,
so ``nn.Linear("a", 3)`` says what is wrong instead of "invalid literal for
int()", and ``stride=0`` or ``kernel_size=2.5`` is refused instead of
failing later (or not at all). ArgumentError is both a ValueError and a
TypeError, the two PyTorch raises for such arguments.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

from .errors import ArgumentError

__all__ = ["ArgumentError", "integer", "number", "pair", "seed"]

SEED_RANGE = (-(2**63), 2**64 - 1)  # PyTorch's: negative seeds wrap around (two's complement)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def integer(owner: str, name: str, value: Any, minimum: int | None = None) -> int:
    """An integer (NumPy's too, not bool or float) of at least ``minimum``."""
    if not _is_int(value):
        raise ArgumentError(f"{owner}: {name} must be an integer, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ArgumentError(f"{owner}: {name} must be an integer >= {minimum}, got {value}")
    return int(value)


def pair(owner: str, name: str, value: Any, minimum: int | None = None) -> tuple[int, int]:
    """An int or a pair of ints (kernel sizes, strides, padding), each at least ``minimum``."""
    items = (value, value) if _is_int(value) else value
    if not isinstance(items, (tuple, list)) or len(items) != 2 or not all(_is_int(v) for v in items):
        raise ArgumentError(f"{owner}: {name} must be an int or a pair of ints, got {value!r}")
    return integer(owner, name, items[0], minimum), integer(owner, name, items[1], minimum)


def number(owner: str, name: str, value: Any, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False) -> float:
    """A finite real number (not bool) in [lo, hi] (or (lo, hi] with ``lo_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ArgumentError(f"{owner}: {name} must be a finite number, got {value!r}")
    low_bad = lo is not None and (value <= lo if lo_open else value < lo)
    if low_bad or (hi is not None and value > hi):
        if lo is not None and hi is not None:
            what = f"between {lo:g}{' (excluded)' if lo_open else ''} and {hi:g}"
        elif lo is not None:
            what = f"{'>' if lo_open else '>='} {lo:g}"
        else:
            what = f"<= {hi:g}"
        raise ArgumentError(f"{owner}: {name} must be {what}, got {value}")
    return float(value)


def seed(owner: str, value: Any) -> int:
    """A seed as NumPy takes it: PyTorch's range, negative seeds mapped to ``seed + 2**64`` as PyTorch does."""
    if not _is_int(value):
        raise ArgumentError(f"{owner}: a seed must be an integer, got {value!r} ({type(value).__name__})")
    lo, hi = SEED_RANGE
    if not lo <= value <= hi:
        raise ArgumentError(f"{owner}: a seed must lie in [{lo}, {hi}], got {value}")
    return int(value) % 2**64
