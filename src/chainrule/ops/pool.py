"""Max pooling as a primitive: the forward remembers which input won each window,
and the VJP sends each gradient back to that input (a scatter, itself differentiable)."""
from __future__ import annotations

from ..backend import xp
from .arraymath import ArrayMath
from .conv import windows
from .registry import defop


def _maxpool_fwd(x, *, kernel, stride, padding, dilation, found):
    """``found`` is filled with the flat index (into x) of every window's maximum, for the VJP."""
    n, c, h, w = x.shape
    kh, kw = kernel
    fill = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
    win = windows(x, kh, kw, stride, padding, dilation, pad_value=fill)
    ho, wo = win.shape[2], win.shape[3]
    flat = win.reshape(n, c, ho, wo, kh * kw)
    arg = flat.argmax(axis=-1)
    out = xp.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
    # window position + offset inside it -> row and column in the unpadded input
    i, j = arg // kw, arg % kw
    rows = xp.arange(ho)[:, None] * stride[0] + i * dilation[0] - padding[0]
    cols = xp.arange(wo)[None, :] * stride[1] + j * dilation[1] - padding[1]
    plane = (xp.arange(n * c).reshape(n, c, 1, 1)) * (h * w)
    found["index"] = plane + rows * w + cols
    found["unique"] = stride[0] >= (kh - 1) * dilation[0] + 1 and stride[1] >= (kw - 1) * dilation[1] + 1
    return out


def _maxpool_vjp(F, g, xs, y, kw, need):
    found = kw["found"]
    shape = tuple(xs[0].shape)
    idx = found["index"]
    size = 1
    for s in shape:
        size *= s
    if F is ArrayMath:
        if found["unique"]:  # windows do not overlap: each input wins at most once
            dx = xp.zeros(size, dtype=g.dtype)
            dx[idx.reshape(-1)] = g.reshape(-1)
        else:
            dx = xp.bincount(idx.reshape(-1), weights=g.reshape(-1), minlength=size).astype(g.dtype)
        return (dx.reshape(shape),)
    return (F.reshape(F.index_add_zeros(F.reshape(g, (-1,)), (size,), (idx.reshape(-1),)), shape),)


MAX_POOL2D = defop("max_pool2d", _maxpool_fwd, _maxpool_vjp, saves="x")
