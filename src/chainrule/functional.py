"""Composite functions built on the primitives: losses, dropout, one_hot.

The common cases go to fused primitives (softmax cross-entropy, MSE, BCE on
logits: one node each); PyTorch's rarer options (class weights,
``ignore_index``, label smoothing) take a composite path of ordinary ops, so
their gradients come for free.
"""
from __future__ import annotations

import math

from . import random
from .backend import xp
from .errors import ShapeError
from .ops import elementwise as _E
from .ops.activation import LEAKY_RELU
from .ops.axes import check_indices, in_range
from .ops.linalg import linear
from .ops.loss import BCE_LOGITS, BCE_PROBS, MSE
from .ops.registry import apply, apply1
from .ops.shape import permute, reshape
from .ops.softmax import REDUCTIONS, fused_cross_entropy, log_softmax, softmax, softmax_cross_entropy
from .tensor import Tensor

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout", "gelu", "l1_loss",
    "leaky_relu", "linear", "log_softmax", "mse_loss", "nll_loss", "one_hot", "relu", "sigmoid", "softmax", "tanh",
]

relu = _E.relu
sigmoid = _E.sigmoid
tanh = _E.tanh
gelu = _E.gelu


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor.of(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return apply1(LEAKY_RELU, _t(x), {"slope": float(negative_slope)})


# ------------------------------------------------------------------ regression
def mse_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of squared differences; shapes must match exactly (no silent broadcast)."""
    _check_reduction(reduction, "mse_loss")
    input, target = _same_shape(input, target, "mse_loss")
    return apply(MSE, (input, target), {"reduction": reduction, "n": input._data.size})


def l1_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of absolute differences; shapes must match exactly."""
    _check_reduction(reduction, "l1_loss")
    input, target = _same_shape(input, target, "l1_loss")
    return _reduce(_E.abs(input - target), reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, *,
                         reduction: str = "mean") -> Tensor:
    """−[y·log p + (1 − y)·log(1 − p)] for probabilities p; each log is clamped at −100 as in PyTorch.

    Prefer ``binary_cross_entropy_with_logits``: it never needs the clamp.
    """
    _check_reduction(reduction, "binary_cross_entropy")
    input, target = _same_shape(input, target, "binary_cross_entropy")
    p = input._data
    if p.size and not ((p >= 0).all() and (p <= 1).all()):
        raise ValueError(f"binary_cross_entropy: all elements of input should be between 0 and 1, "
                         f"got values from {p.min()} to {p.max()}")
    loss = apply(BCE_PROBS, (input, target))
    if weight is not None:
        loss = loss * _t(weight).to(input._data.dtype)
    return _reduce(loss, reduction)


def _same_shape(input, target, op: str):
    input, target = _t(input), _t(target)
    if input._data.shape != target._data.shape:
        raise ShapeError(f"{op}: input of shape {input._data.shape} and target of shape {target._data.shape} differ; "
                         "reshape one of them rather than rely on broadcasting")
    return _common_float(input, target, op)


def _common_float(input, target, op: str):
    """Both in one floating dtype: the predictions' if they are floating (a float target is computed
    in it), else the target's float dtype (PyTorch promotes an integer side); two integer sides float32."""
    a, b = input._data, target._data
    if a.dtype == b.dtype and a.dtype.kind == "f":
        return input, target
    if a.dtype.kind == "f":
        return input, target.to(a.dtype)
    if b.dtype.kind == "f":
        return input.to(b.dtype), target
    return input.to(xp.float32), target.to(xp.float32)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None, *,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """−[p·y·log σ(x) + (1 − y)·log(1 − σ(x))], computed from logits without overflow."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    input, target = _t(input), _t(target)
    if input._data.shape != target._data.shape:
        raise ShapeError(
            f"binary_cross_entropy_with_logits: target size {target._data.shape} must be the same as "
            f"input size {input._data.shape}"
        )
    if target._data.dtype != input._data.dtype:
        target = target.to(input._data.dtype)
    pw = None if pos_weight is None else _t(pos_weight)._data.astype(input._data.dtype, copy=False)
    loss = apply(BCE_LOGITS, (input, target), {"pos_weight": pw})
    if weight is not None:
        loss = loss * _t(weight).to(input._data.dtype)
    return _reduce(loss, reduction)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ------------------------------------------------------------------ classification
def _classes_last(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N·d1·..., C): every position becomes a row of class scores."""
    nd = x._data.ndim
    x = permute(x, (0,) + tuple(range(2, nd)) + (1,))
    return reshape(x, (-1, x._data.shape[-1]))


def _flatten_input(input: Tensor, target: Tensor, op: str):
    """Bring input to (M, C) and target to (M,) or (M, C); return the shape of an unreduced loss."""
    x, t = input._data, target._data
    classes = t.dtype.kind in "iu"
    if x.ndim == 0:
        raise ShapeError(f"{op}: input must have a class axis, got a 0-d tensor")
    if x.ndim == 1:  # one sample (C,)
        want = () if classes else x.shape
        if t.shape != want:
            raise ShapeError(f"{op}: for input of shape {x.shape} the target must have shape {want}, got {t.shape}")
        return reshape(input, (1, -1)), reshape(target, (1,) if classes else (1, -1)), ()
    want = (x.shape[0],) + x.shape[2:] if classes else x.shape
    if t.shape != want:
        kind = "class-index" if classes else "probability"
        raise ShapeError(f"{op}: input of shape {x.shape} needs a {kind} target of shape {want}, got {t.shape}")
    loss_shape = (x.shape[0],) + x.shape[2:]
    if x.ndim == 2:
        return input, target, loss_shape
    t2 = reshape(target, (-1,)) if classes else _classes_last(target)
    return _classes_last(input), t2, loss_shape


def _valid_targets(t, ignore_index: int, n_classes: int, op: str):
    """Mask of non-ignored targets and the targets with ignored ones replaced by class 0."""
    valid = t != ignore_index
    safe = xp.where(valid, t, 0)
    check_indices(safe, n_classes, op, "target classes")
    return valid, safe


def _nll_2d(logp: Tensor, t, weight, ignore_index: int, reduction: str, op: str) -> Tensor:
    m, c = logp._data.shape
    valid, safe = _valid_targets(t, ignore_index, c, op)
    w = xp.ones(m, dtype=logp._data.dtype) if weight is None else weight[safe]
    w = xp.where(valid, w, 0).astype(logp._data.dtype, copy=False)
    loss = -(logp[(xp.arange(m), safe)] * w)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "mean" and not w.sum():  # every target ignored: NaN loss, zero gradient (PyTorch)
        return total + math.nan
    return total / float(w.sum()) if reduction == "mean" else total


def _weight_array(weight, n_classes: int, dtype, op: str):
    if weight is None:
        return None
    w = _t(weight)._data.astype(dtype, copy=False)
    if w.shape != (n_classes,):
        raise ShapeError(f"{op}: weight must have shape ({n_classes},) (one per class), got {w.shape}")
    return w


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, *, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """−input[n, target[n]] (weighted), for log-probabilities ``input``."""
    _check_reduction(reduction, "nll_loss")
    input, target = _t(input), _t(target)
    if target._data.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold class indices (integers), got {target._data.dtype}")
    x2, t2, shape = _flatten_input(input, target, "nll_loss")
    w = _weight_array(weight, x2._data.shape[1], input._data.dtype, "nll_loss")
    out = _nll_2d(x2, t2._data, w, ignore_index, reduction, "nll_loss")
    return reshape(out, shape) if reduction == "none" else out


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, *, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits against class indices or class probabilities.

    The plain case is the fused op whose backward is softmax − one-hot.  Options
    after ``weight`` are keyword-only: PyTorch's positional order has deprecated
    arguments in between, and a silent mix-up would be worse than an error.
    """
    if weight is None and not label_smoothing and input.__class__ is Tensor and target.__class__ is Tensor:
        x, t = input._data, target._data
        if (x.ndim == 2 and t.shape == x.shape[:1] and t.dtype.kind in "iu" and t.size and reduction in REDUCTIONS
                and x.dtype.kind == "f" and in_range(t, x.shape[1])):
            # the common case, checked in one pass (an ignore_index inside [0, C) takes the long way)
            if ignore_index < 0 or ignore_index >= x.shape[1] or not (t == ignore_index).any():
                return fused_cross_entropy(input, target, reduction, True)
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    input, target = _t(input), _t(target)
    x2, t2, shape = _flatten_input(input, target, "cross_entropy")
    classes = t2._data.dtype.kind in "iu"
    c = x2._data.shape[1]
    w = _weight_array(weight, c, input._data.dtype, "cross_entropy")
    plain = w is None and label_smoothing == 0.0 and not (classes and (t2._data == ignore_index).any())
    if plain:
        out = softmax_cross_entropy(x2, t2, reduction)
    else:
        logp = log_softmax(x2, 1)
        out = (_ce_classes(logp, t2._data, w, ignore_index, reduction, label_smoothing) if classes
               else _ce_probs(logp, t2, w, reduction, label_smoothing))
    return reshape(out, shape) if reduction == "none" else out


def _ce_classes(logp, t, w, ignore_index, reduction, eps):
    """PyTorch's label smoothing: (1 − ε)·NLL + ε/C · Σ_c −w_c log p_c."""
    nll = _nll_2d(logp, t, w, ignore_index, reduction, "cross_entropy")
    if eps == 0.0:
        return nll
    m, c = logp._data.shape
    valid, safe = _valid_targets(t, ignore_index, c, "cross_entropy")
    smooth = -((logp if w is None else logp * w).sum(axis=1)) * valid.astype(logp._data.dtype)
    if reduction == "mean":
        denom = float(w[safe][valid].sum()) if w is not None else float(valid.sum())
        smooth = smooth.sum() / denom if denom else smooth.sum() + math.nan
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1.0 - eps) + smooth * (eps / c)


def _ce_probs(logp, target, w, reduction, eps):
    m, c = logp._data.shape
    if target._data.dtype != logp._data.dtype:
        target = target.to(logp._data.dtype)
    if eps > 0.0:
        target = target * (1.0 - eps) + eps / c
    prod = logp * target
    if w is not None:
        prod = prod * w
    per = -prod.sum(axis=1)
    if reduction == "mean":
        return per.sum() / m
    return per.sum() if reduction == "sum" else per


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (any shape) -> int64 tensor with a new last axis of size ``num_classes``."""
    t = _t(tensor)._data
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: needs integer class indices, got {t.dtype}")
    if num_classes == -1:
        num_classes = int(t.max()) + 1 if t.size else 0
    check_indices(t, num_classes, "one_hot", "class values")
    out = xp.zeros(t.shape + (num_classes,), dtype=xp.int64)
    xp.put_along_axis(out, t[..., None].astype(xp.intp), 1, axis=-1)
    return Tensor._make(out, None)


# ------------------------------------------------------------------ regularisation
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each value with probability p and scale the rest by 1/(1 − p) (only while training)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    input = _t(input)
    if not training or p == 0.0:
        return input
    x = input._data
    if p == 1.0:
        return input * Tensor._make(xp.zeros_like(x), None)
    keep = random.generator().random(x.shape, dtype=xp.float64 if x.dtype == xp.float64 else xp.float32) >= p
    mask = keep.astype(x.dtype)
    mask *= 1.0 / (1.0 - p)
    return input * Tensor._make(mask, None)

