"""Fused loss primitives: mean squared error and binary cross-entropy on logits.

Each is one node instead of four or five, and BCE on logits is computed in
the stable form (1 − y)·x + w·softplus(−x), whose gradient σ(x) − y never
overflows.
"""
from __future__ import annotations

from ..backend import xp
from .registry import Case, defop


def _mse_fwd(a, b, reduction, n):
    d = a - b
    if reduction == "none":
        d *= d
        return d
    flat = d.reshape(-1)
    s = xp.dot(flat, flat)
    if reduction == "mean":  # the mean over no values is NaN (as PyTorch), not 0
        s = s / n if n else xp.nan
    return xp.asarray(s, dtype=d.dtype)


def _mse_vjp(F, g, x, y, kw, need):
    """d/da Σ(a − b)² = 2(a − b), scaled by 1/n for the mean."""
    red = kw["reduction"]
    scale = g * (2.0 / max(kw["n"], 1)) if red == "mean" else g * 2.0
    ga = (x[0] - x[1]) * scale
    return (ga if need[0] else None, -ga if need[1] else None)


MSE = defop("mse_loss", _mse_fwd, _mse_vjp, saves="x", test=[
    Case(lambda t, a, b: t.nn.functional.mse_loss(a, b), arity=2, shapes="same", call=lambda a, b: _f().mse_loss(a, b)),
    Case(lambda t, a, b: t.nn.functional.mse_loss(a, b, reduction="none"), arity=2, shapes="same",
         call=lambda a, b: _f().mse_loss(a, b, reduction="none")),
])


def _f():
    from .. import functional

    return functional


def _softplus_neg(x):
    """softplus(−x) = log(1 + e^−x), stable for any x (arrays)."""
    return xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _bce_fwd(x, t, pos_weight):
    sp = _softplus_neg(x)
    if pos_weight is not None:
        sp *= (pos_weight - 1) * t + 1
    return ((1 - t) * x + sp).astype(x.dtype, copy=False)


def _bce_vjp(F, g, xs, y, kw, need):
    """∂/∂x = (1 − t) − w·σ(−x)  (= σ(x) − t without pos_weight);  ∂/∂t = −x + (p − 1)·softplus(−x)."""
    x, t = xs
    pw = kw["pos_weight"]
    sp = F.relu(-x) + F.log(1.0 + F.exp(-F.abs(x))) if need[1] and pw is not None else None
    return _bce_grads(g, x, t, pw, F.sigmoid(-x), sp, need)


def _bce_fast(F, g, xs, y, kw, need):
    """The same on arrays, with the overflow-free softplus."""
    x, t = xs
    pw = kw["pos_weight"]
    return _bce_grads(g, x, t, pw, F.sigmoid(-x), _softplus_neg(x) if need[1] and pw is not None else None, need)


def _bce_grads(g, x, t, pw, sig_neg, sp, need):
    gx = gt = None
    if need[0]:
        gx = g * ((1 - t) - sig_neg) if pw is None else g * ((1 - t) - ((pw - 1) * t + 1) * sig_neg)
    if need[1]:
        gt = -g * x if pw is None else g * ((pw - 1) * sp - x)
    return gx, gt


BCE_LOGITS = defop("bce_with_logits", _bce_fwd, _bce_vjp, saves="x", fast=_bce_fast, test=[
    Case(lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(x, y, reduction="none"), arity=2,
         shapes="same", call=lambda x, y: _f().binary_cross_entropy_with_logits(x, y, reduction="none")),
    Case(lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(x, y, pos_weight=t.tensor(2.0,
         dtype=x.dtype)), arity=2, shapes="same",
         call=lambda x, y: _f().binary_cross_entropy_with_logits(x, y, pos_weight=2.0)),
])



def _clamped_logs(F, p):
    """log p and log(1 − p), each at least −100 (PyTorch's clamp, so p = 0 or 1 stays finite)."""
    lp, lq = F.log(p), F.log(1.0 - p)
    return F.where(lp < -100.0, -100.0, lp), F.where(lq < -100.0, -100.0, lq)


def _clamped_logs_arrays(p):
    """The same on arrays: log 0 = −inf is expected there (then clamped), so it is not warned about."""
    with xp.errstate(divide="ignore"):
        return xp.maximum(xp.log(p), -100.0), xp.maximum(xp.log1p(-p), -100.0)


def _bce_prob_fwd(p, t):
    lp, lq = _clamped_logs_arrays(p)
    return (-(t * lp + (1 - t) * lq)).astype(p.dtype, copy=False)


def _bce_prob_vjp(F, g, xs, y, kw, need):
    """∂/∂p = (p − t) / max(p(1 − p), 1e-12) (PyTorch's guard);  ∂/∂t = log(1 − p) − log p (clamped)."""
    p, t = xs
    gp = gt = None
    if need[0]:
        d = p * (1.0 - p)
        gp = g * (p - t) / F.where(d < 1e-12, 1e-12, d)
    if need[1]:
        lp, lq = _clamped_logs(F, p)
        gt = g * (lq - lp)
    return gp, gt


BCE_PROBS = defop("binary_cross_entropy", _bce_prob_fwd, _bce_prob_vjp, saves="x", test=Case(
    lambda t, p, y: t.nn.functional.binary_cross_entropy(p, y), arity=2, shapes="same", low=0.1, high=0.9,
    call=lambda p, y: _f().binary_cross_entropy(p, y)))
