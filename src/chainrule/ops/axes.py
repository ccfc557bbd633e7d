"""Axis arguments as PyTorch and NumPy users write them: int, tuple, negative, ``dim=``."""
from __future__ import annotations

import operator

from ..errors import ShapeError


def pick_axis(axis, dim, op: str):
    """``dim=`` is accepted wherever ``axis=`` is; giving both is an error."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: give axis= or dim=, not both")
        return dim
    return axis


def normalize(axis, ndim: int, op: str):
    """None, or a sorted tuple of distinct non-negative axes within ``ndim``."""
    if axis is None:
        return None
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        a = _int_axis(a, op)
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(a % max(ndim, 1) if ndim else 0)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: axis {items} repeats an axis")
    if ndim == 0:
        return ()  # PyTorch accepts axis 0 / -1 on a 0-d tensor: there is nothing to reduce
    return tuple(sorted(out))


def one(axis, ndim: int, op: str, extra: int = 0) -> int:
    """A single axis, normalised; ``extra`` allows one past the end (unsqueeze, stack)."""
    n = ndim + extra
    a = _int_axis(axis, op)
    if not -max(n, 1) <= a < max(n, 1):
        raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
    return a % max(n, 1)


def _int_axis(a, op: str) -> int:
    try:
        return operator.index(a)
    except TypeError:
        raise ShapeError(f"{op}: an axis must be an integer, got {a!r}") from None


def kept_shape(shape: tuple, axis) -> tuple:
    """The shape of a reduction over ``axis`` with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else s for i, s in enumerate(shape))
