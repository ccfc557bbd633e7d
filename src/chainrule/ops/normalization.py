"""Batch and layer normalisation as one primitive: y = (x − μ)·(σ² + ε)^−½ · γ + β.

With batch statistics μ and σ² depend on x, which gives the familiar VJP
    dx = (σ² + ε)^−½ · (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)),   dx̂ = g·γ,
over the normalised axes.  With fixed (running) statistics it is affine.
The first-order path reuses the statistics of the forward pass; a
differentiable backward recomputes them from x, so gradients of gradients
are right too.
"""
from __future__ import annotations

from .registry import Case, defop


def _norm_fwd(x, w, b, mean, invstd, *, axes, pshape, batch, eps, count, per_channel):
    """The statistics arrive as inputs that want no gradient (saved and freed like any input)."""
    y = x - mean
    y *= invstd
    if w is not None:
        y *= w.reshape(pshape)
    if b is not None:
        y += b.reshape(pshape)
    return y


def _norm_vjp_arrays(g, x, w, b, mean, invstd, kw, need):
    """Batch norm's rule on raw arrays with few temporaries.

    γ is constant over the normalised axes, so Σ dx̂ = γ Σ g and Σ dx̂·x̂ = γ Σ g·x̂:
    the sums that give dγ and dβ also give dx.
    """
    axes, pshape, n = kw["axes"], kw["pshape"], kw["count"]
    xhat = x - mean
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
    """With batch statistics, μ and σ² are recomputed as differentiable functions of x."""
    x, w = xs[0], xs[1]
    if not kw["batch"]:
        return _norm_grads(F, g, x, w, xs[2], xs[3], xs[4], kw, need)
    axes, n = kw["axes"], kw["count"]
    mean = F.sum(x, axis=axes, keepdims=True) / n
    d = x - mean
    invstd = (F.sum(d * d, axis=axes, keepdims=True) / n + kw["eps"]) ** -0.5
    return _norm_grads(F, g, x, w, xs[2], mean, invstd, kw, need)


def _norm_fast(F, g, xs, y, kw, need):
    """On arrays, from the forward's statistics; batch norm's layout takes the few-temporaries path."""
    if kw["per_channel"]:
        return _norm_vjp_arrays(g, *xs, kw, need)
    return _norm_grads(F, g, *xs, kw, need)


def _norm_grads(F, g, x, w, b, mean, invstd, kw, need):
    axes, pshape, n = kw["axes"], kw["pshape"], kw["count"]
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
    if need[2]:
        gb = F.reshape(F.sum_to(g, pshape), tuple(b.shape))
    return gx, gw, gb, None, None


def _torch_batch_norm(t, x, w, b):
    return t.nn.functional.batch_norm(x, None, None, w, b, training=True)


def _torch_layer_norm(t, x, w, b):
    return t.nn.functional.layer_norm(x, (3,), w, b)


def _call(name):
    def call(x, w, b):
        from ..nn import functional

        return functional.batch_norm(x, None, None, w, b, training=True) if name == "batch" else \
            functional.layer_norm(x, (3,), w, b)

    return call


NORMALIZE = defop("normalize", _norm_fwd, _norm_vjp, saves="x", fast=_norm_fast, test=[
    Case(_torch_batch_norm, shapes=[(4, 3), (3,), (3,)], call=_call("batch")),
    Case(_torch_batch_norm, shapes=[(2, 3, 2, 2), (3,), (3,)], call=_call("batch")),
    Case(_torch_layer_norm, shapes=[(2, 4, 3), (3,), (3,)], call=_call("layer")),
])
