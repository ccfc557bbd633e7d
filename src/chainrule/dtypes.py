"""PyTorch's dtype aliases (``cr.float``, ``cr.long``, ...), the same NumPy dtypes as ``cr.float32`` etc."""
from __future__ import annotations

from .backend import xp
from .creation import bool, float16, float32, float64, int32, int64, uint8  # noqa: A004 - PyTorch's names

int8 = xp.dtype("int8")
int16 = xp.dtype("int16")
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16

__all__ = ["bool", "double", "float", "float16", "float32", "float64", "half", "int", "int8", "int16", "int32",
           "int64", "long", "short", "uint8"]
