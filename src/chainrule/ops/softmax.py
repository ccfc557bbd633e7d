"""Softmax, log-softmax and the fused softmax cross-entropy.

The cross-entropy is one op whose VJP is (softmax − one-hot) · g: the
textbook result, and a single node instead of five.
"""
from __future__ import annotations

from ..backend import xp
from ..errors import DTypeError, ShapeError
from . import registry
from .arraymath import ones, row_numbers
from .axes import check_indices, one, pick_axis
from .registry import Case, apply, apply1, as_tensor, defop


def _softmax_fwd(x, axis):
    if not x.shape[axis]:  # nothing to normalise over: an empty result (PyTorch), not a failed max
        return x.copy()
    e = x - _max_reduce(x, axis=axis, keepdims=True)
    xp.exp(e, out=e)
    e /= _add_reduce(e, axis=axis, keepdims=True)
    return e


def _log_softmax_fwd(x, axis):
    if not x.shape[axis]:
        return x.copy()
    s = x - _max_reduce(x, axis=axis, keepdims=True)
    s -= xp.log(_add_reduce(xp.exp(s), axis=axis, keepdims=True))
    return s


def _shifted_exp(x):
    """(x − m, e^(x − m), Σ_row e^(x − m)) for (N, C) logits, m a shift that keeps exp in range.

    Softmax is unchanged by any per-row shift.  One global maximum is a single fast
    reduction (NumPy's per-row maximum over a short last axis costs ~50 ns a row) and
    row sums are one BLAS matrix-vector product; only a batch where some row lies far
    below the global maximum (its sum would lose precision or underflow) falls back to
    per-row maxima.
    """
    m = _max_reduce(x, axis=None) if x.size else 0.0
    if -_INF < m < _INF:  # (False for NaN too)
        s = x - m
        e = xp.exp(s)
        total = e @ ones((x.shape[1], 1), x.dtype)
        if not x.size or _min_reduce(total, axis=None) > _FAR_BELOW:
            return s, e, total
    s = x - _max_reduce(x, axis=1, keepdims=True)
    e = xp.exp(s)
    return s, e, _add_reduce(e, axis=1, keepdims=True)


_INF = float("inf")
_FAR_BELOW = 1e-20  # a row whose largest value is ~46 below the batch's: use per-row maxima
# the ufuncs' own reductions: ndarray.max/.sum add a Python wrapper that costs µs on small arrays
_max_reduce = xp.maximum.reduce
_min_reduce = xp.minimum.reduce
_add_reduce = xp.add.reduce


SOFTMAX = defop("softmax", _softmax_fwd, lambda F, g, x, y, kw, need: (
    y * (g - F.sum(g * y, axis=kw["axis"], keepdims=True)),), saves="y",
    test=Case(lambda t, a: a.softmax(-1), call=lambda a: softmax(a, -1), min_dims=1))
LOG_SOFTMAX = defop("log_softmax", _log_softmax_fwd, lambda F, g, x, y, kw, need: (
    g - F.exp(y) * F.sum(g, axis=kw["axis"], keepdims=True),), saves="y",
    test=Case(lambda t, a: a.log_softmax(0), call=lambda a: log_softmax(a, 0), min_dims=1))


def _ce_fwd(logits, target, reduction, classes):
    """Returns the loss and, as the residual for backward, softmax(logits)."""
    s, p, total = _shifted_exp(logits)
    p /= total
    log_total = xp.log(total).reshape(-1)
    n = len(log_total)
    if classes:  # −log_softmax at the target only: log Σ − (z_t − m), no full log-softmax needed
        per = log_total - s[row_numbers(n), target]
    else:
        s -= log_total[:, None]  # s is now log_softmax(logits)
        per = -(target * s).sum(axis=1)
    if reduction == "mean":  # (a float32 sum over a Python int stays float32)
        loss = _add_reduce(per, axis=None) / n if n else per.sum() * xp.nan
    elif reduction == "sum":
        loss = _add_reduce(per, axis=None)
    else:
        loss = per
    return loss, p


def _ce_scale(F, g, n: int, reduction: str):
    if reduction == "mean":
        return g / n
    return g if reduction == "sum" else F.reshape(g, (n, 1))


def _ce_vjp(F, g, x, y, kw, need):
    """∂l/∂z = softmax(z) − target, scaled by the incoming gradient (softmax recomputed from z)."""
    logits, target = x
    n = logits.shape[0]
    p = F.softmax(logits, axis=1)
    if kw["classes"]:
        hot = xp.zeros(tuple(logits.shape), dtype=logits.dtype)
        hot[row_numbers(n), _raw(target)] = 1
        diff = p - hot
    else:  # l = −Σ t log p: ∂l/∂z = p·Σt − t (= p − t only when the targets sum to 1, as PyTorch)
        diff = p * F.sum(target, axis=1, keepdims=True) - target
    scale = _ce_scale(F, g, n, kw["reduction"])
    gt = -F.log_softmax(logits, axis=1) * scale if need[1] else None  # probability targets have one too
    return diff * scale, gt


def _ce_fast(F, g, x, y, kw, need):
    """The same on arrays, from the softmax the forward left as its residual ``y``: one copy of it
    becomes softmax − one-hot in place, then is scaled in place."""
    logits, target = x
    n = logits.shape[0]
    p = y.copy()  # the saved softmax stays intact for a retained graph
    if kw["classes"]:
        p[row_numbers(n), target] -= 1
    else:
        p *= target.sum(axis=1, keepdims=True)
        p -= target
    scale = _ce_scale(F, g, n, kw["reduction"])
    gt = -_log_softmax_fwd(logits, 1) * scale if need[1] else None
    p *= scale
    return p, gt


def _ce_torch(t, z, target=None):
    if target is None:  # class indices
        return t.nn.functional.cross_entropy(z, t.arange(z.shape[0]) % z.shape[1])
    return t.nn.functional.cross_entropy(z, target, reduction="sum")


CROSS_ENTROPY = defop("cross_entropy", _ce_fwd, _ce_vjp, saves="x", residual=True, fast=_ce_fast, test=[
    Case(_ce_torch, shapes=[(4, 3)], call=lambda z: softmax_cross_entropy(z, xp.arange(4) % 3)),
    Case(_ce_torch, shapes=[(4, 3), (4, 3)], low=0.1, high=1.0,
         call=lambda z, t: softmax_cross_entropy(z, t, "sum")),
])


def _raw(t):
    return t._data if isinstance(t, registry._Tensor) else t


def softmax(x, axis: int | None = None, *, dim=None):
    """Along ``axis`` (default: the last one)."""
    return _along_axis(SOFTMAX, x, axis, dim)


def log_softmax(x, axis: int | None = None, *, dim=None):
    """Along ``axis`` (default: the last one)."""
    return _along_axis(LOG_SOFTMAX, x, axis, dim)


def _along_axis(op, x, axis, dim):
    x = as_tensor(x)
    a = pick_axis(axis, dim, op.name)
    a = one(-1 if a is None else a, x._data.ndim, op.name)
    if x._data.ndim == 0:  # NumPy's 0-d arithmetic gives scalars, not arrays: go through shape (1,)
        return _along_axis(op, x.reshape(1), 0, None).reshape(())
    return apply1(op, x, {"axis": a})


def softmax_cross_entropy(logits, target, reduction: str = "mean"):
    """Cross-entropy of (N, C) logits against class indices (N,) or probabilities (N, C)."""
    T = registry._Tensor
    target = target if isinstance(target, T) else T(xp.asarray(target))
    ls, ts = logits._data.shape, target._data.shape
    classes = target._data.dtype.kind in "iu"
    if logits._data.ndim != 2:
        raise ShapeError(f"cross_entropy: logits must be (N, C), got {ls}")
    if logits._data.dtype.kind != "f":
        raise DTypeError(f"cross_entropy: logits must be floating point, got {logits._data.dtype}; use .float()")
    if classes:
        if ts != ls[:1]:
            raise ShapeError(f"cross_entropy: class targets must have shape ({ls[0]},) for logits {ls}, got {ts}")
        t = target._data
        check_indices(t, ls[1], "cross_entropy", "target classes")
    elif ts != ls:
        raise ShapeError(f"cross_entropy: probability targets must have the logits' shape {ls}, got {ts}")
    elif target._data.dtype != logits._data.dtype:
        target = target.to(logits._data.dtype)
    if reduction not in REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    return fused_cross_entropy(logits, target, reduction, classes)


REDUCTIONS = ("mean", "sum", "none")
_KW = {(r, c): {"reduction": r, "classes": c} for r in REDUCTIONS for c in (True, False)}


def fused_cross_entropy(logits, target, reduction: str, classes: bool):
    """The op itself, for callers that have already checked shapes, classes and reduction."""
    return apply(CROSS_ENTROPY, (logits, target), _KW[reduction, classes])




