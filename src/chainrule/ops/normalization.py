"""Batch and layer normalisation as one primitive: y = (x − μ)·(σ² + ε)^−½ · γ + β.

With batch statistics μ and σ² depend on x, which gives the familiar VJP
    dx = (σ² + ε)^−½ · (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)),   dx̂ = g·γ,
over the normalised axes.  With fixed (running) statistics it is affine.
The first-order path reuses the statistics of the forward pass; a
differentiable backward recomputes them from x, so gradients of gradients
are right too.
"""
from __future__ import annotations

from .arraymath import ArrayMath
from .registry import defop


def _norm_fwd(x, w=None, b=None, *, axes, pshape, mean, invstd, batch, eps, count, per_channel):
    y = x - mean
    y *= invstd
    if w is not None:
        y *= w.reshape(pshape)
    if b is not None:
        y += b.reshape(pshape)
    return y


def _norm_vjp_arrays(g, x, w, b, kw, need):
    """Batch norm's rule on raw arrays with few temporaries.

    γ is constant over the normalised axes, so Σ dx̂ = γ Σ g and Σ dx̂·x̂ = γ Σ g·x̂:
    the sums that give dγ and dβ also give dx.
    """
    axes, pshape, n, invstd = kw["axes"], kw["pshape"], kw["count"], kw["invstd"]
    xhat = x - kw["mean"]
    xhat *= invstd
    gsum = g.sum(axis=axes, keepdims=True)
    gxsum = (g * xhat).sum(axis=axes, keepdims=True)
    gx = None
    if need[0]:
        scale = invstd if w is None else invstd * w.reshape(pshape)
        if kw["batch"]:
            xhat *= gxsum / n
            gx = g - xhat
            gx -= gsum / n
            gx *= scale
        else:
            gx = g * scale
    gw = gxsum.reshape(w.shape) if need[1] else None
    gb = gsum.reshape(b.shape) if need[2] else None
    return gx, gw, gb


def _norm_vjp(F, g, xs, y, kw, need):
    x, w = xs[0], xs[1]
    axes, pshape, n = kw["axes"], kw["pshape"], kw["count"]
    if F is ArrayMath and kw["per_channel"]:
        return _norm_vjp_arrays(g, x, w, xs[2], kw, need)
    if F is ArrayMath or not kw["batch"]:
        mean, invstd = kw["mean"], kw["invstd"]
    else:  # statistics as a differentiable function of x
        mean = F.sum(x, axis=axes, keepdims=True) / n
        d = x - mean
        invstd = (F.sum(d * d, axis=axes, keepdims=True) / n + kw["eps"]) ** -0.5
    xhat = (x - mean) * invstd
    gx = gw = gb = None
    if need[0]:
        dxhat = g if w is None else g * F.reshape(w, pshape)
        if kw["batch"]:
            m1 = F.sum(dxhat, axis=axes, keepdims=True) / n
            m2 = F.sum(dxhat * xhat, axis=axes, keepdims=True) / n
            gx = (dxhat - m1 - xhat * m2) * invstd
        else:
            gx = dxhat * invstd
    if need[1]:
        gw = F.reshape(F.sum_to(g * xhat, pshape), tuple(w.shape))
    if len(need) > 2 and need[2]:
        gb = F.reshape(F.sum_to(g, pshape), tuple(xs[2].shape))
    return gx, gw, gb


NORMALIZE = defop("normalize", _norm_fwd, _norm_vjp, saves="x")
