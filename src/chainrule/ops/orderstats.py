"""Order statistics and NaN-skipping reductions: median, nanmedian, mode, quantile, nanquantile,
aminmax, nansum, nanmean (PyTorch's forms).  Values are picked by ``gather`` and combined by table
ops, so every gradient goes where PyTorch sends it with no rule of its own, except the whole-tensor
median's: ties share it evenly there (PyTorch), the rule amax uses."""
from __future__ import annotations

from typing import Any, NamedTuple

from ..backend import xp
from ..errors import DTypeError, ShapeError
from . import registry
from .axes import normalize, one
from .elementwise import where
from .reduce import _extreme_vjp, amax, amin, sum
from .registry import Case, apply1, as_tensor, defop, public
from .select import ValuesIndices, gather
from .shape import permute, reshape


def _T():
    return registry._Tensor


def _const(arr):
    return _T()._make(xp.asarray(arr), None)


def _floating(x, op: str):
    x = as_tensor(x)
    if x._data.dtype.kind != "f":
        raise DTypeError(f"{op}: needs a floating-point tensor, got {x._data.dtype} (use .float())")
    return x


# ------------------------------------------------------------------ NaN-skipping sums
@public
def nansum(x, dim=None, keepdim: bool = False, *, dtype=None):
    """The sum treating NaN as 0; the gradient is 0 at the NaNs."""
    x = as_tensor(x) if dtype is None else as_tensor(x).to(dtype)
    if x._data.dtype.kind != "f":
        return sum(x, dim, keepdim)
    return sum(where(xp.isnan(x._data), 0.0, x), dim, keepdim)


@public
def nanmean(x, dim=None, keepdim: bool = False, *, dtype=None):
    """The mean of the values that are not NaN (NaN where a slice has none)."""
    x = _floating(x if dtype is None else as_tensor(x).to(dtype), "nanmean")
    counts = xp.sum(~xp.isnan(x._data), axis=normalize(dim, x._data.ndim, "nanmean"), keepdims=keepdim)
    with xp.errstate(invalid="ignore", divide="ignore"):  # a slice of NaNs only: 0/0 = NaN, as PyTorch
        return nansum(x, dim, keepdim) / _const(counts.astype(x._data.dtype))


# ------------------------------------------------------------------ median and mode
def _lower_median(x, skip_nan: bool):
    d = x.reshape(-1)
    if skip_nan:
        d = d[~xp.isnan(d)]
    elif xp.isnan(d).any():
        return xp.asarray(xp.nan, dtype=x.dtype)
    if not d.size:
        return xp.asarray(xp.nan, dtype=x.dtype)
    return xp.asarray(xp.partition(d, (d.size - 1) // 2)[(d.size - 1) // 2])


MEDIAN = defop("median", lambda x, axis, keepdims, skip_nan: _lower_median(x, skip_nan), _extreme_vjp,
               test=[Case(lambda t, a: a.median(), call=lambda a: median(a)),
                     Case(lambda t, a: a.nanmedian(), call=lambda a: nanmedian(a))])


def _median(x, dim, keepdim: bool, skip_nan: bool, op: str):
    x = as_tensor(x)
    if dim is None:
        if x._data.size == 0:
            raise ShapeError(f"{op}: the tensor is empty")
        return apply1(MEDIAN, x, {"axis": None, "keepdims": False, "skip_nan": skip_nan})
    d = x._data
    if d.ndim == 0:
        return ValuesIndices(x, _const(xp.zeros((), xp.int64)))
    a = one(dim, d.ndim, op)
    if d.shape[a] == 0:
        raise ShapeError(f"{op}: dim {dim} of shape {d.shape} is empty")
    order = xp.argsort(d, axis=a, kind="stable")  # NaN last
    nan = xp.isnan(d) if d.dtype.kind == "f" else xp.zeros(d.shape, bool)
    if skip_nan:  # the lower median of each slice's non-NaN values (the first NaN if there are none)
        k = xp.maximum(xp.sum(~nan, axis=a, keepdims=True) - 1, 0) // 2
    else:
        k = xp.full(d.shape[:a] + (1,) + d.shape[a + 1:], (d.shape[a] - 1) // 2)
    idx = xp.take_along_axis(order, k, axis=a)
    if not skip_nan:  # a slice holding NaN has median NaN, at its first NaN (PyTorch)
        has = nan.any(axis=a, keepdims=True)
        idx = xp.where(has, xp.argmax(nan, axis=a, keepdims=True), idx)
    values = gather(x, a, idx)
    if not keepdim:
        values, idx = _drop(values, a), xp.squeeze(idx, a)
    return ValuesIndices(values, _const(idx.astype(xp.int64)))


def _drop(t, a: int):
    return reshape(t, t._data.shape[:a] + t._data.shape[a + 1:])


@public
def median(x, dim=None, keepdim: bool = False):
    """The lower of the two middle values (PyTorch's, not their mean).  Without ``dim``: a value whose
    gradient ties share evenly; with ``dim``: (values, indices), the gradient to the index.  A NaN
    makes it NaN.  Which index of tied values is picked PyTorch leaves unspecified; here the
    stable sort's."""
    return _median(x, dim, keepdim, False, "median")


@public
def nanmedian(x, dim=None, keepdim: bool = False):
    """median over the values that are not NaN."""
    return _median(x, dim, keepdim, True, "nanmedian")


@public
def mode(x, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The most frequent value of each slice along ``dim`` (the smallest of tied ones) and the index of
    its last occurrence, as PyTorch's CPU mode; the gradient goes to that index."""
    x = as_tensor(x)
    d = x._data
    if d.ndim == 0:
        return ValuesIndices(x, _const(xp.zeros((), xp.int64)))
    a = one(dim, d.ndim, "mode")
    n = d.shape[a]
    if n == 0:
        raise ShapeError(f"mode: dim {dim} of shape {d.shape} is empty")
    rows = xp.moveaxis(d, a, -1).reshape(-1, n)
    picks = xp.empty(rows.shape[0], dtype=xp.intp)
    for r, row in enumerate(rows):
        values, counts = xp.unique(row, return_counts=True)
        best = values[xp.argmax(counts)]  # unique sorts, argmax takes the first: the smallest tied value
        picks[r] = n - 1 - xp.argmax(row[::-1] == best)
    idx = xp.moveaxis(picks.reshape(xp.moveaxis(d, a, -1).shape[:-1] + (1,)), -1, a)
    values = gather(x, a, idx)
    if not keepdim:
        values, idx = _drop(values, a), xp.squeeze(idx, a)
    return ValuesIndices(values, _const(idx.astype(xp.int64)))


# ------------------------------------------------------------------ quantiles
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(x, q, dim, keepdim: bool, interpolation: str, skip_nan: bool, op: str):
    x = _floating(x, op)
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    qd = (q._data if isinstance(q, _T()) else xp.asarray(q, dtype=xp.float64)).astype(xp.float64)
    if qd.ndim > 1:
        raise ShapeError(f"{op}: q must be a number or a 1-D tensor, got shape {qd.shape}")
    if qd.size and (qd.min() < 0 or qd.max() > 1 or xp.isnan(qd).any()):
        raise ValueError(f"{op}: q values must lie in [0, 1], got {qd.tolist()}")
    shape = x._data.shape
    if dim is None:
        a, xm = 0, reshape(x, (-1,))
    else:
        a = one(dim, x._data.ndim, op)
        xm = x if x._data.ndim else reshape(x, (1,))
        if a != xm._data.ndim - 1:
            order = [i for i in range(xm._data.ndim) if i != a] + [a]
            xm = permute(xm, order)
    n = xm._data.shape[-1]
    if n == 0:
        raise ShapeError(f"{op}: cannot take a quantile of an empty slice (shape {shape})")
    from .select import sort

    s = sort(xm, -1).values  # NaN last
    nan = xp.isnan(xm._data)
    count = (n - nan.sum(axis=-1, keepdims=True)) if skip_nan else xp.full(nan.shape[:-1] + (1,), n)
    pos = qd.reshape(-1) * xp.maximum(count - 1, 0)  # (..., Q)
    lo, hi = xp.floor(pos).astype(xp.intp), xp.ceil(pos).astype(xp.intp)
    if interpolation == "lower":
        out = gather(s, -1, lo)
    elif interpolation == "higher":
        out = gather(s, -1, hi)
    elif interpolation == "nearest":
        out = gather(s, -1, xp.rint(pos).astype(xp.intp))  # half to even, as PyTorch
    else:
        low, high = gather(s, -1, lo), gather(s, -1, hi)
        w = xp.full(pos.shape, 0.5) if interpolation == "midpoint" else pos - lo
        out = low + (high - low) * _const(w.astype(x._data.dtype))
    undefined = (count == 0) if skip_nan else nan.any(axis=-1, keepdims=True)
    if undefined.any():
        out = where(xp.broadcast_to(undefined, out._data.shape), float("nan"), out)
    # out is (..., Q): PyTorch puts Q first (dropped for a number q), the reduced dim kept as 1 if asked
    if keepdim:
        kept = (1,) * len(shape) if dim is None else shape[:a] + (1,) + shape[a + 1:]
        out = reshape(out, kept + (out._data.shape[-1],))
    nd = out._data.ndim
    out = permute(out, [nd - 1] + list(range(nd - 1)))
    return reshape(out, out._data.shape[1:]) if qd.ndim == 0 else out


@public
def quantile(x, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """The q-th quantiles along ``dim`` (all values if None); q a number or a 1-D tensor (its axis
    first in the result); NaN where a slice holds NaN.  Differentiable (sort, gather, lerp)."""
    return _quantile(x, q, dim, keepdim, interpolation, False, "quantile")


@public
def nanquantile(x, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """quantile over the values that are not NaN."""
    return _quantile(x, q, dim, keepdim, interpolation, True, "nanquantile")


class MinMax(NamedTuple):
    """What ``aminmax`` returns, as PyTorch's ``torch.return_types.aminmax``."""

    min: Any
    max: Any


@public
def aminmax(x, *, dim=None, keepdim: bool = False) -> MinMax:
    """(amin, amax) over ``dim`` (all values if None)."""
    return MinMax(amin(x, dim, keepdim), amax(x, dim, keepdim))
