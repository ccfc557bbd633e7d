"""Which array module does the work.

Ops reach arrays only through ``xp`` so that a GPU array library with NumPy's
interface (CuPy) can take NumPy's place without touching any op.
"""
from __future__ import annotations

import numpy

xp = numpy


def get_array_module(device: str = "cpu"):
    """The array module for ``device``; only the CPU (NumPy) is built in."""
    if device != "cpu":
        raise ValueError(f"device {device!r} is not available; chainrule runs on 'cpu'")
    return xp
