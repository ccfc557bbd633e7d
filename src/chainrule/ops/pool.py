"""Max pooling as a primitive: the forward remembers which input won each window,
and the VJP sends each gradient back to that input (a scatter, itself differentiable)."""
from __future__ import annotations

from ..backend import xp
from .conv import windows
from .elementwise import zero_slope
from .registry import Case, apply, defop


def _maxpool_fwd(x, *, kernel, stride, padding, dilation):
    """Running maximum over the kh·kw offsets of every window (strided views, no copies).

    The residual is the offset of each window's first maximum (ties go to the
    first, as in PyTorch); the VJP turns it into input positions.
    """
    kh, kw = kernel
    fill = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
    win = windows(x, kh, kw, stride, padding, dilation, pad_value=fill)
    out = win[..., 0, 0].copy()
    for k in range(1, kh * kw):
        xp.maximum(out, win[..., k // kw, k % kw], out=out)
    arg = xp.full(out.shape, kh * kw - 1, dtype=xp.int32)
    for k in range(kh * kw - 2, -1, -1):  # backwards, so the first maximum is the one kept
        arg = xp.where(win[..., k // kw, k % kw] == out, xp.int32(k), arg)
    return out, arg


def flat_index(arg, x_shape: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple):
    """Offsets inside windows -> (flat positions in x (N·C·H·W), mask of windows that saw x at all).

    With dilation a window can hold only padding; its maximum is −inf and its
    gradient goes nowhere (as in PyTorch).  The mask is None when every window saw x.
    """
    n, c, h, w = x_shape
    ho, wo = arg.shape[2], arg.shape[3]
    i, j = xp.divmod(arg, kernel[1])
    rows = (xp.arange(ho)[:, None] * stride[0] - padding[0]) + i.astype(xp.intp) * dilation[0]
    cols = (xp.arange(wo)[None, :] * stride[1] - padding[1]) + j.astype(xp.intp) * dilation[1]
    valid = None
    if padding[0] or padding[1]:
        inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
        if not inside.all():
            valid = inside
            rows, cols = xp.where(inside, rows, 0), xp.where(inside, cols, 0)
    return xp.arange(n * c).reshape(n, c, 1, 1) * (h * w) + (rows * w + cols), valid


def _scatter_args(g, xshape, arg, kw):
    k, s, d = kw["kernel"], kw["stride"], kw["dilation"]
    idx, valid = flat_index(arg, xshape, k, s, kw["padding"], d)
    if valid is not None:
        g = g * valid.astype(g.dtype)
    return g, idx.reshape(-1), xshape[0] * xshape[1] * xshape[2] * xshape[3]


def _maxpool_vjp(F, g, xs, y, kw, need):
    """Each window's gradient goes to its winner (found again from x: no residual on this path)."""
    shape = tuple(xs[0].shape)
    _, arg = _maxpool_fwd(xs[0]._data, **kw)
    g, idx, size = _scatter_args(g, shape, arg, kw)
    return (zero_slope(F, F.reshape(F.index_add_zeros(F.reshape(g, (-1,)), (size,), (idx,)), shape), xs[0]),)


def _maxpool_fast(F, g, xs, arg, kw, need):
    """The same on arrays, from the winners the forward kept; windows that do not overlap need no sum."""
    shape = xs[0].shape
    g, idx, size = _scatter_args(g, shape, arg, kw)
    k, s, d = kw["kernel"], kw["stride"], kw["dilation"]
    if g.ndim and s[0] >= (k[0] - 1) * d[0] + 1 and s[1] >= (k[1] - 1) * d[1] + 1 and kw["padding"] == (0, 0):
        dx = xp.zeros(size, dtype=g.dtype)  # each input wins at most once
        dx[idx] = g.reshape(-1)
    else:
        dx = xp.bincount(idx, weights=g.reshape(-1), minlength=size).astype(g.dtype)
    return (dx.reshape(shape),)


MAX_POOL2D = defop("max_pool2d", _maxpool_fwd, _maxpool_vjp, saves="x", residual=True, fast=_maxpool_fast, test=[
    Case(lambda t, x: t.nn.functional.max_pool2d(x, 2), shapes=[(2, 2, 4, 4)],
         call=lambda x: _pool(x, (2, 2), (2, 2), (0, 0))),
    Case(lambda t, x: t.nn.functional.max_pool2d(x, 3, 1, 1), shapes=[(1, 2, 4, 3)],
         call=lambda x: _pool(x, (3, 3), (1, 1), (1, 1))),
])


def _pool(x, kernel, stride, padding):
    return apply(MAX_POOL2D, (x,), {"kernel": kernel, "stride": stride, "padding": padding, "dilation": (1, 1)})
