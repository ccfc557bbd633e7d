"""2-D convolution (NCHW, weights (out, in, kh, kw)) as im2col + one matrix product.

Three primitives close under differentiation: the convolution, its gradient
with respect to the input and its gradient with respect to the weight.  Each
is linear in each argument, and each one's VJP is written with the other two
(adjoints), so the convolution is differentiable to any order.
"""
from __future__ import annotations

from ..backend import xp
from .arraymath import ArrayMath
from .registry import apply, defop


def out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def windows(x, kh: int, kw: int, stride: tuple, padding: tuple, dilation: tuple, pad_value: float = 0.0):
    """A read-only (N, C, Ho, Wo, kh, kw) view of every receptive field (no copy beyond the padding)."""
    ph, pw = padding
    if ph or pw:
        x = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    n, c, h, w = x.shape
    ho = out_size(h, kh, stride[0], 0, dilation[0])
    wo = out_size(w, kw, stride[1], 0, dilation[1])
    s0, s1, s2, s3 = x.strides
    return xp.lib.stride_tricks.as_strided(
        x, (n, c, ho, wo, kh, kw),
        (s0, s1, s2 * stride[0], s3 * stride[1], s2 * dilation[0], s3 * dilation[1]), writeable=False)


def im2col(x, kh: int, kw: int, stride: tuple, padding: tuple, dilation: tuple):
    """(N, C·kh·kw, Ho·Wo) columns: each output position's receptive field, one column each."""
    win = windows(x, kh, kw, stride, padding, dilation)
    n, c, ho, wo = win.shape[:4]
    return xp.ascontiguousarray(win.transpose(0, 1, 4, 5, 2, 3)).reshape(n, c * kh * kw, ho * wo), ho, wo


def _conv_fwd(x, w, b=None, *, stride, padding, dilation, saved=None):
    """out[n] = W (O, C·kh·kw) @ cols[n]: one batched matrix product, already in NCHW order."""
    o = w.shape[0]
    cols, ho, wo = im2col(x, w.shape[2], w.shape[3], stride, padding, dilation)
    out = xp.matmul(w.reshape(o, -1), cols)
    if b is not None:
        out += b[:, None]
    if saved is not None:  # the weight gradient reuses the columns instead of building them again
        saved["cols"] = cols
    return out.reshape(x.shape[0], o, ho, wo)


def _grad_input_fwd(g, w, *, x_shape, stride, padding, dilation):
    """Columns Wᵀ g, each added back at the input positions (h·s + i·d, w·s + j·d) it was read from."""
    n, c, h, wd = x_shape
    ph, pw = padding
    o, _, kh, kw = w.shape
    ho, wo = g.shape[2], g.shape[3]
    cols = xp.matmul(w.reshape(o, -1).T, g.reshape(n, o, ho * wo)).reshape(n, c, kh, kw, ho, wo)
    dx = xp.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype=cols.dtype)
    sh, sw = stride
    for i in range(kh):
        hi = i * dilation[0]
        for j in range(kw):
            wj = j * dilation[1]
            dx[:, :, hi:hi + sh * (ho - 1) + 1:sh, wj:wj + sw * (wo - 1) + 1:sw] += cols[:, :, i, j]
    return xp.ascontiguousarray(dx[:, :, ph:ph + h, pw:pw + wd]) if ph or pw else dx


def _grad_weight_fwd(x, g, *, w_shape, stride, padding, dilation, cols=None):
    """Σ_n g[n] (O, Ho·Wo) @ cols[n]ᵀ: every position's input patch weighted by its output gradient."""
    if cols is None:
        cols, _, _ = im2col(x, w_shape[2], w_shape[3], stride, padding, dilation)
    n, o = g.shape[0], g.shape[1]
    return xp.matmul(g.reshape(n, o, -1), cols.transpose(0, 2, 1)).sum(axis=0).reshape(w_shape)


def _geom(kw: dict) -> dict:
    return {"stride": kw["stride"], "padding": kw["padding"], "dilation": kw["dilation"]}


def _run(F, op, inputs: tuple, kw: dict):
    """Raw arrays on the first-order path, a recorded op when the backward is differentiated."""
    if F is ArrayMath:
        return op.fwd(*inputs, **kw)
    return apply(op, inputs, kw)


def _conv_vjp(F, g, xs, y, kw, need):
    x, w = xs[0], xs[1]
    geo = _geom(kw)
    gx = _run(F, CONV2D_GRAD_INPUT, (g, w), dict(geo, x_shape=tuple(x.shape))) if need[0] else None
    gw = None
    if need[1]:
        if F is ArrayMath:
            cols = kw["saved"].pop("cols", None) if kw.get("saved") is not None else None
            gw = _grad_weight_fwd(x, g, w_shape=w.shape, cols=cols, **geo)
        else:
            gw = _run(F, CONV2D_GRAD_WEIGHT, (x, g), dict(geo, w_shape=tuple(w.shape)))
    if len(xs) == 2:
        return gx, gw
    gb = F.sum(g, axis=(0, 2, 3)) if need[2] else None
    return gx, gw, gb


def _grad_input_vjp(F, u, xs, y, kw, need):
    g, w = xs
    geo = _geom(kw)
    return (_run(F, CONV2D, (u, w), geo) if need[0] else None,
            _run(F, CONV2D_GRAD_WEIGHT, (u, g), dict(geo, w_shape=tuple(w.shape))) if need[1] else None)


def _grad_weight_vjp(F, u, xs, y, kw, need):
    x, g = xs
    geo = _geom(kw)
    return (_run(F, CONV2D_GRAD_INPUT, (g, u), dict(geo, x_shape=tuple(x.shape))) if need[0] else None,
            _run(F, CONV2D, (x, u), geo) if need[1] else None)


CONV2D = defop("conv2d", _conv_fwd, _conv_vjp, saves="x")
CONV2D_GRAD_INPUT = defop("conv2d_grad_input", _grad_input_fwd, _grad_input_vjp, saves="x")
CONV2D_GRAD_WEIGHT = defop("conv2d_grad_weight", _grad_weight_fwd, _grad_weight_vjp, saves="x")
