"""Reductions: sum, mean, max/min (values only), var/std, logsumexp, argmax/argmin."""
from __future__ import annotations

import builtins
from typing import Any, NamedTuple

from ..backend import xp
from ..errors import DTypeError, ShapeError
from . import registry
from .axes import kept_shape, normalize, pick_axis
from .registry import Case, apply1, as_tensor, defop, public


def _spread(F, g, shape, kw):
    """Send a reduced gradient back to every position that was reduced."""
    if not kw["keepdims"] and kw["axis"] is not None:
        g = F.reshape(g, kept_shape(shape, kw["axis"]))
    return F.broadcast_to(g, shape)


SUM = defop("sum", lambda x, axis, keepdims, **_: x.sum(axis=axis, keepdims=keepdims),
            lambda F, g, x, y, kw, need: (_spread(F, g, kw["shape"], kw),), saves="",
            test=[Case(lambda t, a: a.sum(), call=lambda a: sum(a)),
                  Case(lambda t, a: a.sum(-1, keepdim=True), call=lambda a: sum(a, -1, True), min_dims=1)])
def _mean_fwd(x, axis, keepdims, count, **_):
    if not count:  # the mean of nothing is NaN (PyTorch), without NumPy's "Mean of empty slice" warning
        return xp.full(xp.sum(x, axis=axis, keepdims=keepdims).shape, xp.nan, dtype=x.dtype)
    return xp.mean(x, axis=axis, keepdims=keepdims)


MEAN = defop("mean", _mean_fwd,
             lambda F, g, x, y, kw, need: (_spread(F, g / kw["count"] if kw["count"] else g, kw["shape"], kw),),
             saves="",
             test=[Case(lambda t, a: a.mean(), call=lambda a: mean(a)),
                   Case(lambda t, a: a.mean(0), call=lambda a: mean(a, 0), min_dims=1)])


def _extreme_vjp(F, g, x, y, kw, need):
    """Tied maxima share the gradient equally."""
    x = x[0]
    if not kw["keepdims"]:
        y = F.reshape(y, kept_shape(x.shape, kw["axis"]))
        g = F.reshape(g, kept_shape(x.shape, kw["axis"]))
    hit = x == y
    one = xp.ones((), dtype=x.dtype)  # a 0-d array keeps the input's dtype (1.0 would make float64)
    count = F.sum(F.where(hit, one, 0.0), axis=kw["axis"], keepdims=True)
    return (F.where(hit, g / count, 0.0),)


MAX = defop("max", lambda x, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims), _extreme_vjp,
            test=[Case(lambda t, a: a.amax(), call=lambda a: amax(a)),
                  Case(lambda t, a: a.amax(-1), call=lambda a: amax(a, -1), min_dims=1)])
MIN = defop("min", lambda x, axis, keepdims: xp.min(x, axis=axis, keepdims=keepdims), _extreme_vjp,
            test=Case(lambda t, a: a.amin(0, keepdim=True), call=lambda a: amin(a, 0, True), min_dims=1))


def _lse_fwd(x, axis, keepdims):
    if not x.size:  # log Σ over nothing is log 0 = -inf (as PyTorch), not a failed max nor a warning
        out = xp.full(kept_shape(x.shape, axis), -xp.inf, dtype=x.dtype)
    else:
        m = xp.max(x, axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    if keepdims:
        return out
    return out.reshape(()) if axis is None else xp.squeeze(out, axis=axis)


def _lse_vjp(F, g, x, y, kw, need):
    x = x[0]
    if not kw["keepdims"]:
        shape = kept_shape(x.shape, kw["axis"])
        y, g = F.reshape(y, shape), F.reshape(g, shape)
    return (g * F.exp(x - y),)


LOGSUMEXP = defop("logsumexp", _lse_fwd, _lse_vjp,
                  test=Case(lambda t, a: a.logsumexp(-1), call=lambda a: logsumexp(a, -1), min_dims=1))


def _all_if_empty(axis):
    """PyTorch reads an empty axis tuple as every axis (NumPy as none)."""
    return None if isinstance(axis, (tuple, list)) and not axis else axis


def _reduction_kw(x, axis, keepdims, op):
    axis = normalize(_all_if_empty(axis), x._data.ndim, op)
    return {"axis": axis, "keepdims": bool(keepdims), "shape": x._data.shape}


def sum(x, axis=None, keepdims: bool = False, *, keepdim: bool = False, dim=None):
    keepdims = keepdims or keepdim  # PyTorch spells it keepdim
    x = as_tensor(x)
    if axis is None and dim is None and not keepdims:  # the common loss.sum(): skip axis parsing
        return apply1(SUM, x, {"axis": None, "keepdims": False, "shape": x._data.shape})
    return apply1(SUM, x, _reduction_kw(x, pick_axis(axis, dim, "sum"), keepdims, "sum"))


def mean(x, axis=None, keepdims: bool = False, *, keepdim: bool = False, dim=None):
    keepdims = keepdims or keepdim  # PyTorch spells it keepdim
    x = as_tensor(x)
    if x._data.dtype.kind in "biu":
        raise DTypeError(f"mean: needs a floating-point tensor, got {x._data.dtype} (use .float())")
    kw = _reduction_kw(x, pick_axis(axis, dim, "mean"), keepdims, "mean")
    kw["count"] = _count(x._data.shape, kw["axis"])
    return apply1(MEAN, x, kw)


def _count(shape: tuple, axis) -> int:
    """How many values each output of a reduction over ``axis`` summarises."""
    return _prod(shape if axis is None else (shape[i] for i in axis))


def amax(x, axis=None, keepdims: bool = False, *, keepdim: bool = False, dim=None):
    """Largest values: values only, tied maxima sharing the gradient; argmax gives indices."""
    return _extreme(MAX, x, pick_axis(axis, dim, "max"), keepdims or keepdim)  # PyTorch spells it keepdim


def amin(x, axis=None, keepdims: bool = False, *, keepdim: bool = False, dim=None):
    """Smallest values: values only (see amax)."""
    return _extreme(MIN, x, pick_axis(axis, dim, "min"), keepdims or keepdim)


def _extreme(op, x, axis, keepdims: bool):
    x = as_tensor(x)
    kw = _reduction_kw(x, axis, keepdims, op.name)
    _nonempty(x, kw, op.name)
    return apply1(op, x, {"axis": kw["axis"], "keepdims": kw["keepdims"]})


class MaxMin(NamedTuple):
    """What ``max(x, dim)`` and ``min(x, dim)`` return, as PyTorch's ``torch.return_types.max``."""

    values: Any
    indices: Any


def max(x, axis=None, keepdims: bool = False, *, keepdim: bool = False, dim=None):
    """PyTorch's max: without a dim the largest value (ties share the gradient, as amax); with one,
    ``(values, indices)`` of each slice's maximum, the gradient going to the selected index;
    with a tensor second argument, the elementwise maximum."""
    return _max_or_min("max", x, axis, keepdims or keepdim, dim)


def min(x, axis=None, keepdims: bool = False, *, keepdim: bool = False, dim=None):
    """PyTorch's min (see max)."""
    return _max_or_min("min", x, axis, keepdims or keepdim, dim)


def _max_or_min(op: str, x, axis, keepdims: bool, dim):
    """max or min: the elementwise form, the whole-tensor value, or one axis's (values, indices)."""
    if isinstance(axis, registry._Tensor):
        from .elementwise import maximum, minimum

        return (maximum if op == "max" else minimum)(x, axis)
    a = pick_axis(axis, dim, op)
    if a is None:
        return (amax if op == "max" else amin)(x, keepdims=keepdims)
    return _selected(xp.argmax if op == "max" else xp.argmin, x, a, keepdims, op)


def _selected(argfn, x, axis, keepdims: bool, op: str) -> MaxMin:
    """The values at ``argfn``'s indices along one axis, picked by indexing (so differentiable)."""
    from .axes import one
    from .index import getitem
    from .shape import unsqueeze

    if isinstance(axis, (tuple, list)):
        raise ShapeError(f"{op}: with a dim it returns (values, indices) along one axis, got {tuple(axis)}; "
                         f"use a{op} for the largest values over several axes")
    x = as_tensor(x)
    nd = x._data.ndim
    a = one(axis, nd, op)
    if nd == 0:
        return MaxMin(x, registry._Tensor._make(xp.zeros((), dtype=xp.int64), None))
    _nonempty(x, {"axis": (a,)}, op)
    idx = argfn(x._data, axis=a)
    grids = list(xp.indices(idx.shape, sparse=True))
    values = getitem(x, tuple(grids[:a] + [idx] + grids[a:]))
    idx = idx.astype(xp.int64)
    if keepdims:
        values, idx = unsqueeze(values, a), xp.expand_dims(idx, a)
    return MaxMin(values, registry._Tensor._make(idx, None))


def _nonempty(x, kw, op):
    """Only a reduction over an axis of length 0 has no value (a (0, 3) tensor has a max along axis 1)."""
    if x._data.size == 0 and (kw["axis"] is None or 0 in (x._data.shape[i] for i in kw["axis"])):
        raise ShapeError(f"{op}: the tensor of shape {x._data.shape} is empty")


def logsumexp(x, axis=None, keepdims: bool = False, *, keepdim: bool = False, dim=None):
    """log Σ exp(x), shifted by the maximum so it never overflows."""
    keepdims = keepdims or keepdim  # PyTorch spells it keepdim
    x = as_tensor(x)
    if x._data.dtype.kind in "biu":
        x = x.float()  # float32 for integers (PyTorch), not NumPy's float64
    kw = _reduction_kw(x, pick_axis(axis, dim, "logsumexp"), keepdims, "logsumexp")
    return apply1(LOGSUMEXP, x, {"axis": kw["axis"], "keepdims": kw["keepdims"]})


def var(x, axis=None, keepdims: bool = False, *, keepdim: bool = False, correction: int = 1, dim=None,
        unbiased=None):
    """Σ(x - mean)² / (N - correction); composite, so it is twice differentiable."""
    keepdims = keepdims or keepdim  # PyTorch spells it keepdim
    x = as_tensor(x)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    axis = pick_axis(axis, dim, "var")
    ax = normalize(_all_if_empty(axis), x._data.ndim, "var")
    d = x - mean(x, axis=ax, keepdims=True)
    return sum(d * d, axis=ax, keepdims=keepdims) / builtins.max(_count(x._data.shape, ax) - correction, 0)


def _std_sqrt_vjp(F, g, x, y, kw, need):
    """d sqrt(v) = g / 2 sqrt(v), taken as 0 where v == 0 (as PyTorch's std), not inf·0 = NaN."""
    zero = y == 0
    return (F.where(zero, 0.0, g / (2.0 * F.where(zero, 1.0, y))),)


STD_SQRT = defop("std_sqrt", xp.sqrt, _std_sqrt_vjp, warns=True, saves="y",
                 test=Case(lambda t, a: a.std(-1), call=lambda a: std(a, -1), shapes=[(3, 4)]))


def std(x, axis=None, keepdims: bool = False, *, keepdim: bool = False, correction: int = 1, dim=None,
        unbiased=None):
    """sqrt(var); a constant slice has std 0 and gradient 0 there (PyTorch), not NaN."""
    keepdims = keepdims or keepdim  # PyTorch spells it keepdim
    return apply1(STD_SQRT, var(x, axis, keepdims, correction=correction, dim=dim, unbiased=unbiased))


def _prod(it) -> int:
    out = 1
    for s in it:
        out *= s
    return out


def argmax(x, axis=None, keepdims: bool = False, *, keepdim: bool = False, dim=None):
    keepdims = keepdims or keepdim  # PyTorch spells it keepdim
    return _arg(xp.argmax, x, axis, keepdims, dim, "argmax")


def argmin(x, axis=None, keepdims: bool = False, *, keepdim: bool = False, dim=None):
    keepdims = keepdims or keepdim  # PyTorch spells it keepdim
    return _arg(xp.argmin, x, axis, keepdims, dim, "argmin")


def _arg(fn, x, axis, keepdims, dim, op):
    x = as_tensor(x)
    axis = pick_axis(axis, dim, op)
    if axis is not None:
        from .axes import one

        axis = one(axis, x._data.ndim, op)
    out = fn(x._data, axis=axis, keepdims=keepdims)
    return registry._Tensor._make(xp.asarray(out, dtype=xp.int64), None)


def sum_to(x, shape: tuple):
    """Sum a broadcast tensor back down to ``shape``, differentiably: the engine's ``sum_to`` on Tensors."""
    from .. import autograd, ops

    return autograd.sum_to(ops, as_tensor(x), tuple(shape))


# ------------------------------------------------------------------ cumulative sums, norms, all/any
CUMSUM = defop("cumsum", lambda x, axis: xp.cumsum(x, axis=axis),
               lambda F, g, x, y, kw, need: (F.flip(F.cumsum(F.flip(g, (kw["axis"],)), kw["axis"]), (kw["axis"],)),),
               saves="", test=Case(lambda t, a: a.cumsum(-1), call=lambda a: cumsum(a, -1), min_dims=1))


@public
def cumsum(x, dim, *, dtype=None):
    """Running sums along ``dim``; the gradient is the running sum of g from the other end."""
    from .axes import one

    x = as_tensor(x)
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind == "b":
        x = x.long()
    return apply1(CUMSUM, x, {"axis": one(dim, x._data.ndim, "cumsum")})


def _cumprod_vjp(F, g, x, y, kw, need):
    """dx_j = sum over i >= j of g_i * prod(x_k for k <= i, k != j): built from the products with x_j
    replaced by 1 (one row per j), so zeros in x give the exact gradient, never 0/0.  O(n²) memory
    along the axis; every step is a table op, so the rule is itself differentiable."""
    a, n = kw["axis"], x[0].shape[kw["axis"]]
    lead, trail = (1,) * a, (1,) * (x[0].ndim - a - 1)
    eye = xp.eye(n, dtype=bool).reshape(lead + (n, n) + trail)  # axes a: j (the input), a + 1: k (the factor)
    upper = xp.triu(xp.ones((n, n), dtype=bool)).reshape(eye.shape)  # i >= j
    rows = F.where(eye, 1.0, F.reshape(x[0], x[0].shape[:a] + (1,) + x[0].shape[a:]))
    products = F.run(CUMPROD, (rows,), {"axis": a + 1})
    spread = F.reshape(g, g.shape[:a] + (1,) + g.shape[a:])
    return (F.sum(F.where(upper, products * spread, 0.0), a + 1),)


CUMPROD = defop("cumprod", lambda x, axis: xp.cumprod(x, axis=axis), _cumprod_vjp, saves="x",
                test=[Case(lambda t, a: a.cumprod(-1), call=lambda a: cumprod(a, -1), min_dims=1),
                      Case(lambda t, a: (a * t.tensor([[1.0], [0.0], [1.0], [0.0]], dtype=a.dtype)).cumprod(0),
                           call=lambda a: cumprod(a * _ZEROS_AT_1_3.astype(a._data.dtype), 0), shapes=[(4, 2)])])
_ZEROS_AT_1_3 = xp.array([[1.0], [0.0], [1.0], [0.0]])  # the gradient through zeros (where y_i / x_j would be 0/0)


@public
def cumprod(x, dim, *, dtype=None):
    """Running products along ``dim``, with the exact gradient where x holds zeros."""
    from .axes import one

    x = as_tensor(x)
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind == "b":
        x = x.long()
    return apply1(CUMPROD, x, {"axis": one(dim, x._data.ndim, "cumprod")})


@public
def norm(x, p="fro", dim=None, keepdim: bool = False):
    """The p-norm over ``dim`` (all values by default): 2 ("fro"), 1, inf, -inf or any other p.
    The 2-norm of zeros has gradient 0 there (PyTorch), not NaN."""
    x = as_tensor(x)
    if p in ("fro", 2, 2.0):
        return apply1(STD_SQRT, sum(x * x, dim, keepdim))
    from .elementwise import abs as _abs

    a = _abs(x)
    if p in (1, 1.0):
        return sum(a, dim, keepdim)
    if p == float("inf"):
        return amax(a, dim, keepdim)
    if p == float("-inf"):
        return amin(a, dim, keepdim)
    return sum(a ** p, dim, keepdim) ** (1.0 / p)


def _logical(fn, x, dim, keepdim: bool, op: str):
    x = as_tensor(x)
    axis = normalize(_all_if_empty(dim), x._data.ndim, op)
    return registry._Tensor._make(xp.asarray(fn(x._data, axis=axis, keepdims=keepdim)), None)


@public
def all(x, dim=None, keepdim: bool = False, *, axis=None):
    return _logical(xp.all, x, pick_axis(axis, dim, "all"), keepdim, "all")


@public
def any(x, dim=None, keepdim: bool = False, *, axis=None):
    return _logical(xp.any, x, pick_axis(axis, dim, "any"), keepdim, "any")
