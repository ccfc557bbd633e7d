"""The losses and distances of ``torch.nn.functional`` beyond MSE, L1, BCE, NLL and cross-entropy.

Each is a short composition of table ops (abs, where, clamp, norm, ...) in
PyTorch's formula, so its gradient, to any order, needs no rule of its own.
"""
from __future__ import annotations

from ..backend import xp
from ..errors import ShapeError
from ..functional import _check_reduction, _common_float, _reduce, _same_shape, _t
from ..ops.elementwise import abs, clamp_min, exp, log, minimum, sqrt, where
from ..ops.reduce import norm
from ..tensor import Tensor
from .functional_activations import softplus

__all__ = ["cosine_embedding_loss", "cosine_similarity", "huber_loss", "kl_div", "margin_ranking_loss", "normalize",
           "pairwise_distance", "smooth_l1_loss", "soft_margin_loss", "triplet_margin_loss"]


def _legacy(size_average, reduce, op: str) -> None:
    if size_average is not None or reduce is not None:
        raise ValueError(f"{op}: size_average and reduce are deprecated in PyTorch and not supported; "
                         "use reduction='mean' / 'sum' / 'none'")


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5·d²/β where |d| < β, else |d| − 0.5·β (d = input − target); β = 0 is the L1 loss."""
    _legacy(size_average, reduce, "smooth_l1_loss")
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    input, target = _same_shape(input, target, "smooth_l1_loss")
    d = input - target
    a = abs(d)
    if beta == 0:
        return _reduce(a, reduction)
    return _reduce(where(a < beta, d * d * (0.5 / beta), a - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5·d² where |d| < δ, else δ·(|d| − 0.5·δ)."""
    _check_reduction(reduction, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    input, target = _same_shape(input, target, "huber_loss")
    d = input - target
    a = abs(d)
    loss = where(a < delta, d * d * 0.5, (a - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * _t(weight).to(loss._data.dtype)
    return _reduce(loss, reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Σ target·(log target − input) for log-probabilities ``input`` (0 where target is 0);
    ``batchmean`` divides the sum by the batch size (the true KL divergence), ``mean`` by every element."""
    _legacy(size_average, reduce, "kl_div")
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', not {reduction!r}")
    input, target = _common_float(_t(input), _t(target), "kl_div")
    try:
        xp.broadcast_shapes(input._data.shape, target._data.shape)
    except ValueError:
        raise ShapeError(f"kl_div: input of shape {input._data.shape} and target of shape {target._data.shape} "
                         "cannot be broadcast together") from None
    if log_target:
        loss = exp(target) * (target - input)
    else:
        pos = target._data > 0
        safe = where(Tensor._make(pos, None), target, 1.0)
        loss = where(Tensor._make(pos, None), target * log(safe), 0.0) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / float(input._data.shape[0]) if input._data.ndim else total
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, −y·(x1 − x2) + margin) for y in {1, −1}."""
    _legacy(size_average, reduce, "margin_ranking_loss")
    _check_reduction(reduction, "margin_ranking_loss")
    x1, x2, y = _t(input1), _t(input2), _t(target)
    if not (x1._data.ndim == x2._data.ndim == y._data.ndim):
        raise ShapeError(f"margin_ranking_loss: input1 {x1._data.shape}, input2 {x2._data.shape} and target "
                         f"{y._data.shape} must have the same number of dimensions")
    x1, y = _common_float(x1, y, "margin_ranking_loss")
    return _reduce(clamp_min(-y * (x1 - x2) + float(margin), 0.0), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + e^(−y·x)) for y in {1, −1}."""
    _legacy(size_average, reduce, "soft_margin_loss")
    _check_reduction(reduction, "soft_margin_loss")
    input, target = _same_shape(input, target, "soft_margin_loss")
    return _reduce(softplus(-target * input), reduction)


def _norm_clamped(x: Tensor, p, dim, eps: float) -> Tensor:
    return clamp_min(norm(x, p, dim, True), eps)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """input / max(‖input‖_p, eps) along ``dim``."""
    if out is not None:
        raise ValueError("normalize: out= is not supported; use the returned tensor")
    x = _t(input)
    if x._data.dtype.kind != "f":
        x = x.float()
    return x / _norm_clamped(x, p, dim, eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Σ x̂1·x̂2 along ``dim``, each side divided by max(its 2-norm, eps) (broadcasting x1 against x2)."""
    x1, x2 = _common_float(_t(x1), _t(x2), "cosine_similarity")
    try:
        shape = xp.broadcast_shapes(x1._data.shape, x2._data.shape)
    except ValueError:
        raise ShapeError(f"cosine_similarity: x1 of shape {x1._data.shape} and x2 of shape {x2._data.shape} cannot "
                         "be broadcast together") from None
    if not -len(shape) <= dim < max(len(shape), 1):
        raise ShapeError(f"cosine_similarity: dim {dim} is out of range for shape {shape}")
    return ((x1 / _norm_clamped(x1, 2, dim, eps)) * (x2 / _norm_clamped(x2, 2, dim, eps))).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """‖x1 − x2 + eps‖_p over the last axis."""
    x1, x2 = _common_float(_t(x1), _t(x2), "pairwise_distance")
    try:
        xp.broadcast_shapes(x1._data.shape, x2._data.shape)
    except ValueError:
        raise ShapeError(f"pairwise_distance: x1 of shape {x1._data.shape} and x2 of shape {x2._data.shape} cannot "
                         "be broadcast together") from None
    return norm(x1 - x2 + eps, p, -1, keepdim)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average=None,
                          reduce=None, reduction: str = "mean") -> Tensor:
    """1 − cos(x1, x2) where y = 1, max(0, cos − margin) where y = −1 (PyTorch's cos, with ε = 1e-12)."""
    _legacy(size_average, reduce, "cosine_embedding_loss")
    _check_reduction(reduction, "cosine_embedding_loss")
    x1, x2 = _common_float(_t(input1), _t(input2), "cosine_embedding_loss")
    y = _t(target)._data
    if x1._data.shape != x2._data.shape or x1._data.ndim not in (1, 2):
        raise ShapeError(f"cosine_embedding_loss: input1 {x1._data.shape} and input2 {x2._data.shape} must be the "
                         "same shape, (N, D) or (D,)")
    want = x1._data.shape[:1] if x1._data.ndim == 2 else ()
    if y.shape != want:
        raise ShapeError(f"cosine_embedding_loss: target must have shape {want} for inputs {x1._data.shape}, "
                         f"got {y.shape}")
    d = x1._data.ndim - 1
    cos = (x1 * x2).sum(d) / sqrt(((x1 * x1).sum(d) + 1e-12) * ((x2 * x2).sum(d) + 1e-12))
    pos, neg = Tensor._make(y == 1, None), Tensor._make(y == -1, None)
    loss = where(pos, 1.0 - cos, 0.0) + where(neg, clamp_min(cos - float(margin), 0.0), 0.0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(d(a, p) − d(a, n) + margin, 0) with d the pairwise distance; ``swap`` uses min(d(a, n), d(p, n))."""
    _legacy(size_average, reduce, "triplet_margin_loss")
    _check_reduction(reduction, "triplet_margin_loss")
    a, pos, neg = _t(anchor), _t(positive), _t(negative)
    if not (a._data.ndim == pos._data.ndim == neg._data.ndim) or a._data.ndim not in (1, 2):
        raise ShapeError(f"triplet_margin_loss: anchor {a._data.shape}, positive {pos._data.shape} and negative "
                         f"{neg._data.shape} must all be (N, D) or all (D,)")
    d_ap = pairwise_distance(a, pos, p, eps)
    d_an = pairwise_distance(a, neg, p, eps)
    if swap:
        d_an = minimum(d_an, pairwise_distance(pos, neg, p, eps))
    return _reduce(clamp_min(d_ap - d_an + float(margin), 0.0), reduction)
