"""Axis arguments as PyTorch and NumPy users write them (int, tuple, negative, ``dim=``), and the
one check of index values against a size (class targets, embedding rows, gather/scatter)."""
from __future__ import annotations

import operator

from ..backend import xp
from ..errors import ArgumentError, IndexOutOfRange, ShapeError


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


def integer(v, op: str, what: str) -> int:
    """A size, shift or count given as an integer (a Python or NumPy int, a 0-d integer tensor): 2.5 or
    "3" is an error naming the op, never truncated to 2 or parsed (PyTorch refuses them too)."""
    try:
        return operator.index(v)
    except TypeError:
        raise ArgumentError(f"{op}: {what} must be integers, got {v!r} ({type(v).__name__})") from None


def integers(values, op: str, what: str) -> tuple:
    """A sequence of integers (see ``integer``)."""
    try:
        items = tuple(values)
    except TypeError:
        raise ArgumentError(f"{op}: {what} must be a sequence of integers, got {values!r}") from None
    return tuple(integer(v, op, what) for v in items)


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


def in_range(t, n: int) -> bool:
    """All of the integer array ``t`` in [0, n), in one pass: seen as unsigned, a negative value
    is huge, so one maximum catches both ends."""
    dt = t.dtype
    if dt.kind != "u":
        u = _UNSIGNED.get(dt)
        if u is None:
            u = _UNSIGNED[dt] = xp.dtype(dt.str.replace("i", "u"))
        t = t.view(u)
    return bool(_max_reduce(t, axis=None) < n)


_UNSIGNED: dict = {}
_max_reduce = xp.maximum.reduce


def check_indices(t, n: int, op: str, what: str = "index values", negative: bool = False) -> None:
    """Raise ``IndexOutOfRange`` (an ``IndexError`` and a ``ChainruleError``) unless every value of the
    integer array ``t`` lies in [0, n) (or [-n, n) where ``negative`` counts from the end), naming
    the op, the first offending value and the range."""
    if not t.size:
        return
    low = -n if negative else 0
    if (low == 0 and in_range(t, n)) or (low < 0 and t.min() >= low and t.max() < n):
        return
    bad = t[(t < low) | (t >= n)].reshape(-1)[0]
    raise IndexOutOfRange(f"{op}: {what} {t.min()}..{t.max()} are out of range: {int(bad)} is not in "
                          f"[{low}, {n - 1}] (size {n}, shape of the indices {tuple(t.shape)})")
