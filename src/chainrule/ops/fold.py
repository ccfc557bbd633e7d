"""unfold (im2col) and fold (col2im) as primitives: each is linear and the other's adjoint, so each one's
VJP is the other and both are differentiable to any order (as the convolution's three entries)."""
from __future__ import annotations

from .conv import col2im, im2col
from .registry import Case, apply, defop


def _unfold_fwd(x, *, kernel, stride, padding, dilation, x_shape):
    return im2col(x, kernel[0], kernel[1], stride, padding, dilation)[0]


def _fold_fwd(cols, *, kernel, stride, padding, dilation, x_shape, blocks):
    n, ckk = cols.shape[0], cols.shape[1]
    c = ckk // (kernel[0] * kernel[1])
    return col2im(cols.reshape(n, c, kernel[0], kernel[1], blocks[0], blocks[1]), x_shape, stride, padding,
                  dilation)


def _geo(kw: dict) -> dict:
    return {k: kw[k] for k in ("kernel", "stride", "padding", "dilation")}


def _unfold_vjp(F, g, x, y, kw, need):
    return (F.run(FOLD, (g,), dict(kw, blocks=blocks(kw["x_shape"], kw))),)


def _fold_vjp(F, g, x, y, kw, need):
    return (F.run(UNFOLD, (g,), dict(_geo(kw), x_shape=kw["x_shape"])),)


def blocks(shape: tuple, kw: dict) -> tuple:
    """How many kernel positions fit along height and width (the unfolded columns' count is their product)."""
    from .conv import out_size

    return tuple(out_size(shape[2 + a], kw["kernel"][a], kw["stride"][a], kw["padding"][a], kw["dilation"][a])
                 for a in (0, 1))


_KW = {"kernel": (2, 3), "stride": (1, 2), "padding": (1, 0), "dilation": (1, 1)}
UNFOLD = defop("unfold", _unfold_fwd, _unfold_vjp, saves="", test=Case(
    lambda t, x: t.nn.functional.unfold(x, (2, 3), 1, (1, 0), (1, 2)), shapes=[(2, 2, 3, 5)],
    call=lambda x: apply(UNFOLD, (x,), dict(_KW, x_shape=(2, 2, 3, 5)))))
FOLD = defop("fold", _fold_fwd, _fold_vjp, saves="", test=Case(
    lambda t, c: t.nn.functional.fold(c, (3, 5), (2, 3), 1, (1, 0), (1, 2)), shapes=[(2, 12, 8)],
    call=lambda c: apply(FOLD, (c,), dict(_KW, x_shape=(2, 2, 3, 5), blocks=(4, 2)))))
