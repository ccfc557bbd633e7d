"""Running extremes and differences along a dim: cummax, cummin (values, indices), diff, kthvalue,
msort.  Values are picked by ``gather`` (so the gradient goes to the picked index, as PyTorch)."""
from __future__ import annotations

from ..backend import xp
from ..errors import ShapeError
from . import registry
from .axes import one
from .index import getitem
from .registry import as_tensor, public
from .select import ValuesIndices, gather, sort
from .shape import cat, reshape


def _const(arr):
    return registry._Tensor._make(xp.asarray(arr), None)


def _running(x, dim, better, op: str) -> ValuesIndices:
    """The running extreme and its index: a later equal value takes over (PyTorch's ``>=``), and a NaN
    takes over and then stays (only a later NaN moves the index)."""
    x = as_tensor(x)
    d = x._data
    if d.ndim == 0:
        return ValuesIndices(x, _const(xp.zeros((), xp.int64)))
    a = one(dim, d.ndim, op)
    moved = xp.moveaxis(d, a, -1)
    idx = xp.zeros(moved.shape, dtype=xp.intp)
    if moved.shape[-1]:
        best, at = moved[..., 0].copy(), xp.zeros(moved.shape[:-1], dtype=xp.intp)
        nan = (lambda v: v != v) if d.dtype.kind == "f" else (lambda v: xp.zeros(v.shape, bool))
        for i in range(moved.shape[-1]):
            v = moved[..., i]
            take = better(v, best) | nan(v)
            best, at = xp.where(take, v, best), xp.where(take, i, at)
            idx[..., i] = at
    idx = xp.moveaxis(idx, -1, a)
    return ValuesIndices(gather(x, a, idx), _const(idx.astype(xp.int64)))


@public
def cummax(x, dim: int):
    """Running maxima along ``dim`` and where each came from (a tie: the later index)."""
    return _running(x, dim, xp.greater_equal, "cummax")


@public
def cummin(x, dim: int):
    """Running minima along ``dim`` and where each came from (a tie: the later index)."""
    return _running(x, dim, xp.less_equal, "cummin")


@public
def diff(x, n: int = 1, dim: int = -1, prepend=None, append=None):
    """The n-th forward difference along ``dim`` (``prepend``/``append`` joined first)."""
    x = as_tensor(x)
    if x._data.ndim == 0:
        raise ShapeError("diff: needs at least 1 dimension, got a 0-d tensor")
    a = one(dim, x._data.ndim, "diff")
    if n < 0:
        raise ValueError(f"diff: n must be non-negative, got {n}")
    parts = [as_tensor(p) for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = cat(parts, a)
    lead = (slice(None),) * a
    for _ in range(n):
        if x._data.shape[a] == 0:
            break
        x = getitem(x, lead + (slice(1, None),)) - getitem(x, lead + (slice(None, -1),))
    return x


@public
def kthvalue(x, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The k-th smallest value (k from 1) along ``dim`` and its index (ties: the stable sort's)."""
    x = as_tensor(x)
    d = x._data
    a = one(dim, max(d.ndim, 1), "kthvalue")
    n = d.shape[a] if d.ndim else 1
    if not 1 <= k <= n:
        raise ShapeError(f"kthvalue: k={k} is out of range for size {n} of dim {dim}")
    if d.ndim == 0:
        return ValuesIndices(x, _const(xp.zeros((), xp.int64)))
    idx = xp.take(xp.argsort(d, axis=a, kind="stable"), [k - 1], axis=a)
    values = gather(x, a, idx)
    if not keepdim:
        values, idx = reshape(values, d.shape[:a] + d.shape[a + 1:]), xp.squeeze(idx, a)
    return ValuesIndices(values, _const(idx.astype(xp.int64)))


@public
def msort(x):
    """Sorted along dim 0 (values only)."""
    return sort(x, 0).values
