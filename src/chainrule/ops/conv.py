"""2-D convolution (NCHW, weights (out, in, kh, kw)) as im2col + one matrix product.

Three primitives close under differentiation: the convolution, its gradient
with respect to the input and its gradient with respect to the weight.  Each
is linear in each argument, and each one's VJP is written with the other two
(adjoints), so the convolution is differentiable to any order.
"""
from __future__ import annotations

from ..backend import xp
from .registry import Case, apply, defop


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


def _conv_fwd(x, w, b=None, *, stride, padding, dilation):
    """out[n] = W (O, C·kh·kw) @ cols[n]: one batched matrix product, already in NCHW order.
    The columns are the residual: the weight gradient reuses them instead of building them again."""
    o = w.shape[0]
    cols, ho, wo = im2col(x, w.shape[2], w.shape[3], stride, padding, dilation)
    out = xp.matmul(w.reshape(o, -1), cols)
    if b is not None:
        out += b[:, None]
    return out.reshape(x.shape[0], o, ho, wo), cols


def _grad_input_fwd(g, w, *, x_shape, stride, padding, dilation):
    """Columns Wᵀ g, each added back at the input positions it was read from (col2im)."""
    n, c = x_shape[0], x_shape[1]
    o, _, kh, kw = w.shape
    ho, wo = g.shape[2], g.shape[3]
    cols = xp.matmul(w.reshape(o, -1).T, g.reshape(n, o, ho * wo)).reshape(n, c, kh, kw, ho, wo)
    return col2im(cols, x_shape, stride, padding, dilation)


def col2im(cols, x_shape, stride, padding, dilation):
    """(N, C, kh, kw, Ho, Wo) columns summed back at the positions (h·s + i·d, w·s + j·d) im2col read them from."""
    n, c, h, wd = x_shape
    ph, pw = padding
    kh, kw, ho, wo = cols.shape[2:]
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


def _conv_vjp(F, g, xs, y, kw, need):
    x, w = xs[0], xs[1]
    geo = _geom(kw)
    gx = F.run(CONV2D_GRAD_INPUT, (g, w), dict(geo, x_shape=tuple(x.shape))) if need[0] else None
    gw = F.run(CONV2D_GRAD_WEIGHT, (x, g), dict(geo, w_shape=tuple(w.shape))) if need[1] else None
    gb = F.sum(g, axis=(0, 2, 3)) if len(xs) > 2 and need[2] else None
    return gx, gw, gb


def _conv_fast(F, g, xs, cols, kw, need):
    """The same on arrays, with the forward's columns (its residual) for the weight gradient."""
    x, w = xs[0], xs[1]
    geo = _geom(kw)
    gx = _grad_input_fwd(g, w, x_shape=x.shape, **geo) if need[0] else None
    gw = _grad_weight_fwd(x, g, w_shape=w.shape, cols=cols, **geo) if need[1] else None
    gb = g.sum(axis=(0, 2, 3)) if len(xs) > 2 and need[2] else None
    return gx, gw, gb


def _grad_input_vjp(F, u, xs, y, kw, need):
    g, w = xs
    geo = _geom(kw)
    return (F.run(CONV2D, (u, w), geo) if need[0] else None,
            F.run(CONV2D_GRAD_WEIGHT, (u, g), dict(geo, w_shape=tuple(w.shape))) if need[1] else None)


def _grad_weight_vjp(F, u, xs, y, kw, need):
    x, g = xs
    geo = _geom(kw)
    return (F.run(CONV2D_GRAD_INPUT, (g, u), dict(geo, x_shape=tuple(x.shape))) if need[0] else None,
            F.run(CONV2D, (x, u), geo) if need[1] else None)


_GEO = {"stride": (1, 2), "padding": (1, 0), "dilation": (1, 1)}
CONV2D = defop("conv2d", _conv_fwd, _conv_vjp, saves="x", residual=True, fast=_conv_fast, test=[
    Case(lambda t, x, w, b: t.nn.functional.conv2d(x, w, b, (1, 2), (1, 0)), shapes=[(2, 2, 4, 5), (3, 2, 3, 2), (3,)],
         call=lambda x, w, b: apply(CONV2D, (x, w, b), _GEO)),
    Case(lambda t, x, w: t.nn.functional.conv2d(x, w, None, 1, 0, 2), shapes=[(1, 2, 5, 5), (2, 2, 2, 2)],
         call=lambda x, w: apply(CONV2D, (x, w), {"stride": (1, 1), "padding": (0, 0), "dilation": (2, 2)})),
])
CONV2D_GRAD_INPUT = defop("conv2d_grad_input", _grad_input_fwd, _grad_input_vjp, saves="x", test=Case(
    lambda t, g, w: t.nn.grad.conv2d_input((2, 2, 4, 5), w, g, (1, 2), (1, 0)), shapes=[(2, 3, 4, 2), (3, 2, 3, 2)],
    call=lambda g, w: apply(CONV2D_GRAD_INPUT, (g, w), dict(_GEO, x_shape=(2, 2, 4, 5)))))
CONV2D_GRAD_WEIGHT = defop("conv2d_grad_weight", _grad_weight_fwd, _grad_weight_vjp, saves="x", test=Case(
    lambda t, x, g: t.nn.grad.conv2d_weight(x, (3, 2, 3, 2), g, (1, 2), (1, 0)), shapes=[(2, 2, 4, 5), (2, 3, 4, 2)],
    call=lambda x, g: apply(CONV2D_GRAD_WEIGHT, (x, g), dict(_GEO, w_shape=(3, 2, 3, 2)))))
