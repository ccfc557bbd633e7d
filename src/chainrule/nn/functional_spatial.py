"""Layer functions over 1-D and 2-D signals beyond conv2d/max_pool2d/avg_pool2d: conv1d, transposed
convolutions, 1-D and adaptive pooling, interpolate, unfold/fold, pixel shuffle, pad's other modes.

1-D forms run the 2-D entries on a height-1 image; transposed convolution is
the table's ``conv2d_grad_input`` entry (that is what it is); adaptive average
pooling and linear interpolation are products with constant matrices, one per
axis; nearest interpolation and the padding modes are gathers.  So every
gradient comes from entries the op table already checks.
"""
from __future__ import annotations

import math

from .. import arguments as arg
from ..backend import xp
from ..errors import ShapeError
from ..ops.conv import CONV2D_GRAD_INPUT
from ..ops.fold import FOLD, UNFOLD, blocks
from ..ops.registry import apply
from ..ops.shape import cat
from ..ops.shape import pad as _constant_pad
from ..tensor import Tensor

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "avg_pool1d",
           "conv1d", "conv_transpose1d", "conv_transpose2d", "fold", "interpolate", "max_pool1d", "pad",
           "pixel_shuffle", "pixel_unshuffle", "unfold", "upsample"]


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor.of(x)


def _single(v, name: str, op: str) -> int:
    """An int, or a 1-tuple of one (PyTorch's 1-D layers store (k,))."""
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {v!r}")
        v = v[0]
    return arg.integer(op, name, v)


def _pair(v, name: str, op: str) -> tuple[int, int]:
    return arg.pair(op, name, v)


def _ndim(x: Tensor, dims: tuple, op: str, layout: str) -> None:
    if x._data.ndim not in dims:
        raise ShapeError(f"{op}: expects input of shape {layout}, got {tuple(x._data.shape)}")


# ------------------------------------------------------------------ 1-D through the 2-D entries
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """Cross-correlation of (N, C, L) with weights (O, C/groups, k): conv2d on a height-1 image."""
    from .functional import conv2d

    x, w = _t(input), _t(weight)
    _ndim(x, (2, 3), "conv1d", "(N, C, L) or (C, L)")
    if w._data.ndim != 3:
        raise ShapeError(f"conv1d: weight must have shape (out, in/groups, k), got {tuple(w._data.shape)}")
    if x._data.ndim == 2:
        return conv1d(x.unsqueeze(0), w, bias, stride, padding, dilation, groups)[0]
    if isinstance(padding, str):
        pad2 = padding
    else:
        pad2 = (0, _single(padding, "padding", "conv1d"))
    if x._data.shape[1] != w._data.shape[1] * groups:
        raise ShapeError(f"conv1d: input of shape {tuple(x._data.shape)} has {x._data.shape[1]} channels, but "
                         f"weight of shape {tuple(w._data.shape)} with groups={groups} expects "
                         f"{w._data.shape[1] * groups}")
    y = conv2d(x.unsqueeze(2), w.unsqueeze(2), bias, (1, _single(stride, "stride", "conv1d")), pad2,
               (1, _single(dilation, "dilation", "conv1d")), groups)
    return y.squeeze(2)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The adjoint of conv2d (a "deconvolution"): (N, C_in, H, W) with weights (C_in, C_out/groups, kh, kw)
    gives (N, C_out, (H − 1)·s − 2p + d·(k − 1) + output_padding + 1, ...)."""
    from .functional import _match_dtype

    x, w = _t(input), _t(weight)
    _ndim(x, (3, 4), "conv_transpose2d", "(N, C, H, W) or (C, H, W)")
    if x._data.ndim == 3:
        return conv_transpose2d(x.unsqueeze(0), w, bias, stride, padding, output_padding, groups, dilation)[0]
    if w._data.ndim != 4:
        raise ShapeError(f"conv_transpose2d: weight must have shape (in, out/groups, kh, kw), got "
                         f"{tuple(w._data.shape)}")
    s, p = _pair(stride, "stride", "conv_transpose2d"), _pair(padding, "padding", "conv_transpose2d")
    op, d = _pair(output_padding, "output_padding", "conv_transpose2d"), _pair(dilation, "dilation", "conv_transpose2d")
    groups = arg.integer("conv_transpose2d", "groups", groups, 1)
    if min(s) < 1 or min(d) < 1 or min(p) < 0 or min(op) < 0:
        raise ValueError(f"conv_transpose2d: stride {s} and dilation {d} must be >= 1, padding {p} and "
                         f"output_padding {op} >= 0")
    for a in (0, 1):
        if op[a] >= s[a] and op[a] >= d[a]:
            raise ValueError(f"conv_transpose2d: output_padding {op} must be smaller than either stride {s} or "
                             f"dilation {d}")
    n, cin, h, wd = x._data.shape
    if w._data.shape[0] != cin or cin % groups:
        raise ShapeError(f"conv_transpose2d: input of shape {tuple(x._data.shape)} has {cin} channels, but weight "
                         f"of shape {tuple(w._data.shape)} expects {w._data.shape[0]} (its first axis), "
                         f"divisible by groups={groups}")
    kh, kw = w._data.shape[2:]
    cout_g = w._data.shape[1]
    out_hw = [(size - 1) * s[a] - 2 * p[a] + d[a] * (k - 1) + op[a] + 1
              for a, (size, k) in enumerate(((h, kh), (wd, kw)))]
    if min(out_hw) < 1:
        raise ShapeError(f"conv_transpose2d: the output would be {tuple(out_hw)} for input {tuple(x._data.shape)}, "
                         f"kernel {(kh, kw)}, stride {s}, padding {p}")
    if bias is not None and _t(bias)._data.shape != (cout_g * groups,):
        raise ShapeError(f"conv_transpose2d: bias must have shape ({cout_g * groups},), got "
                         f"{tuple(_t(bias)._data.shape)}")
    x = _match_dtype(x, w, "conv_transpose2d")
    geo = {"stride": s, "padding": p, "dilation": d}
    cin_g = cin // groups
    outs = []
    for i in range(groups):
        xi = x if groups == 1 else x[:, i * cin_g:(i + 1) * cin_g]
        wi = w if groups == 1 else w[i * cin_g:(i + 1) * cin_g]
        outs.append(apply(CONV2D_GRAD_INPUT, (xi, wi), dict(geo, x_shape=(n, cout_g, *out_hw))))
    y = outs[0] if groups == 1 else cat(outs, 1)
    if bias is not None:
        y = y + _t(bias).reshape(1, -1, 1, 1)
    return y


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    x, w = _t(input), _t(weight)
    _ndim(x, (2, 3), "conv_transpose1d", "(N, C, L) or (C, L)")
    if w._data.ndim != 3:
        raise ShapeError(f"conv_transpose1d: weight must have shape (in, out/groups, k), got {tuple(w._data.shape)}")
    if x._data.ndim == 2:
        return conv_transpose1d(x.unsqueeze(0), w, bias, stride, padding, output_padding, groups, dilation)[0]
    one = {n: (1 if n == "stride" or n == "dilation" else 0, _single(v, n, "conv_transpose1d")) for n, v in
           (("stride", stride), ("padding", padding), ("output_padding", output_padding), ("dilation", dilation))}
    return conv_transpose2d(x.unsqueeze(2), w.unsqueeze(2), bias, one["stride"], one["padding"],
                            one["output_padding"], groups, one["dilation"]).squeeze(2)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    from .functional import max_pool2d

    x = _t(input)
    _ndim(x, (2, 3), "max_pool1d", "(N, C, L) or (C, L)")
    k = _single(kernel_size, "kernel_size", "max_pool1d")
    s = k if stride is None or stride == () or stride == [] else _single(stride, "stride", "max_pool1d")
    out = max_pool2d(x.unsqueeze(-2), (1, k), (1, s), (0, _single(padding, "padding", "max_pool1d")),
                     (1, _single(dilation, "dilation", "max_pool1d")), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), Tensor._make(out[1]._data.squeeze(-2), None)
    return out.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    from .functional import avg_pool2d

    x = _t(input)
    _ndim(x, (2, 3), "avg_pool1d", "(N, C, L) or (C, L)")
    k = _single(kernel_size, "kernel_size", "avg_pool1d")
    s = k if stride is None or stride == () or stride == [] else _single(stride, "stride", "avg_pool1d")
    return avg_pool2d(x.unsqueeze(-2), (1, k), (1, s), (0, _single(padding, "padding", "avg_pool1d")), ceil_mode,
                      count_include_pad).squeeze(-2)


# ------------------------------------------------------------------ adaptive pooling
def _bins(n: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive windows: [floor(i·n/out), ceil((i + 1)·n/out))."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


def _sizes(output_size, spatial: tuple, op: str) -> tuple:
    if output_size is None or isinstance(output_size, int):
        output_size = (output_size,) * len(spatial)
    output_size = tuple(output_size)
    if len(output_size) != len(spatial):
        raise ValueError(f"{op}: output_size must have {len(spatial)} entries, got {output_size!r}")
    sizes = tuple(n if o is None else arg.integer(op, "output_size", o, 1) for o, n in zip(output_size, spatial))
    if min(spatial) < 1:
        raise ShapeError(f"{op}: input has an empty spatial axis: {spatial}")
    return sizes


def _mean_matrix(n: int, out: int, dtype) -> Tensor:
    m = xp.zeros((out, n), dtype=dtype)
    for i, (a, b) in enumerate(_bins(n, out)):
        m[i, a:b] = 1.0 / (b - a)
    return Tensor._make(m, None)


def _float_input(x: Tensor) -> Tensor:
    return x if x._data.dtype.kind == "f" else x.float()


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """The mean of each of PyTorch's (possibly overlapping) windows: (M_h x) M_wᵀ, one matrix per axis."""
    x = _float_input(_t(input))
    _ndim(x, (3, 4), "adaptive_avg_pool2d", "(N, C, H, W) or (C, H, W)")
    h, w = x._data.shape[-2:]
    oh, ow = _sizes(output_size, (h, w), "adaptive_avg_pool2d")
    dt = x._data.dtype
    if (oh, ow) == (1, 1):
        return x.mean(axis=(-2, -1), keepdims=True)
    return _mean_matrix(h, oh, dt) @ x @ _mean_matrix(w, ow, dt).transpose(0, 1)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    x = _float_input(_t(input))
    _ndim(x, (2, 3), "adaptive_avg_pool1d", "(N, C, L) or (C, L)")
    (o,) = _sizes(output_size if not isinstance(output_size, int) else (output_size,), x._data.shape[-1:],
                  "adaptive_avg_pool1d")
    return x @ _mean_matrix(x._data.shape[-1], o, x._data.dtype).transpose(0, 1)


def _window_index(n: int, out: int):
    """(out, longest window) input positions of each adaptive window, short windows padded with their own last
    position (a repeat never wins first place, so the first maximum is PyTorch's)."""
    start = (xp.arange(out) * n) // out
    stop = -(-((xp.arange(out) + 1) * n) // out)
    longest = int((stop - start).max())
    return xp.minimum(start[:, None] + xp.arange(longest)[None, :], stop[:, None] - 1)


def _adaptive_max(x: Tensor, sizes: tuple) -> Tensor:
    """The first largest value of each window (row-major scan, as PyTorch), picked by index: its gradient goes
    to that one position."""
    d = x._data
    spatial = len(sizes)
    idx = [_window_index(n, o) for n, o in zip(d.shape[-spatial:], sizes)]
    if spatial == 1:
        win = d[..., idx[0]]  # (..., out, k)
        first = xp.argmax(win, axis=-1)
        pos = xp.take_along_axis(xp.broadcast_to(idx[0], win.shape), first[..., None], -1)[..., 0]
        lead = xp.indices(pos.shape[:-1], sparse=True)
        return x[tuple(i[..., None] for i in lead) + (pos,)]
    rows, cols = idx
    win = d[..., rows[:, :, None, None], cols[None, None, :, :]]  # (..., oh, kh, ow, kw)
    win = xp.moveaxis(win, -3, -2)  # (..., oh, ow, kh, kw)
    kh, kw = win.shape[-2:]
    first = xp.argmax(win.reshape(win.shape[:-2] + (kh * kw,)), axis=-1)
    r = xp.take_along_axis(xp.broadcast_to(rows[:, None, :], win.shape[:-1]), (first // kw)[..., None], -1)[..., 0]
    c = xp.take_along_axis(xp.broadcast_to(cols[None, :, :], win.shape[:-2] + (kw,)), (first % kw)[..., None],
                           -1)[..., 0]
    lead = xp.indices(r.shape[:-2], sparse=True)
    return x[tuple(i[..., None, None] for i in lead) + (r, c)]


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False) -> Tensor:
    """The largest value of each adaptive window."""
    if return_indices:
        raise NotImplementedError("adaptive_max_pool2d: return_indices=True is not supported")
    x = _t(input)
    _ndim(x, (3, 4), "adaptive_max_pool2d", "(N, C, H, W) or (C, H, W)")
    return _adaptive_max(x, _sizes(output_size, x._data.shape[-2:], "adaptive_max_pool2d"))


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False) -> Tensor:
    if return_indices:
        raise NotImplementedError("adaptive_max_pool1d: return_indices=True is not supported")
    x = _t(input)
    _ndim(x, (2, 3), "adaptive_max_pool1d", "(N, C, L) or (C, L)")
    return _adaptive_max(x, _sizes(output_size if not isinstance(output_size, int) else (output_size,),
                                   x._data.shape[-1:], "adaptive_max_pool1d"))


# ------------------------------------------------------------------ interpolate
_MODES = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2, "area": None}


def _out_sizes(x: Tensor, size, scale_factor, recompute: bool | None, spatial: int, op: str):
    """(output sizes, scales to compute the source positions with: 1/scale_factor, or None for in/out)."""
    shape = x._data.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    if size is not None:
        sizes = (size,) * spatial if isinstance(size, int) else tuple(size)
        if len(sizes) != spatial:
            raise ValueError(f"{op}: size {size!r} must have {spatial} entries for input of shape "
                             f"{tuple(x._data.shape)}")
        return tuple(arg.integer(op, "size", s, 1) for s in sizes), (None,) * spatial
    factors = (scale_factor,) * spatial if not isinstance(scale_factor, (tuple, list)) else tuple(scale_factor)
    if len(factors) != spatial:
        raise ValueError(f"{op}: scale_factor {scale_factor!r} must have {spatial} entries for input of shape "
                         f"{tuple(x._data.shape)}")
    factors = tuple(arg.number(op, "scale_factor", f, 0.0, lo_open=True) for f in factors)
    sizes = tuple(int(math.floor(n * f)) for n, f in zip(shape, factors))
    if min(sizes) < 1:
        raise ShapeError(f"{op}: scale_factor {scale_factor!r} gives an empty output for input {tuple(x._data.shape)}")
    return sizes, ((None,) * spatial if recompute else factors)


def _scale(n: int, out: int, factor, align_corners: bool) -> float:
    if align_corners:
        return (n - 1) / (out - 1) if out > 1 else 0.0
    return 1.0 / factor if factor is not None else n / out


def _nearest_index(n: int, out: int, factor, exact: bool):
    if out == n and not exact:
        return xp.arange(n)
    scale = xp.float32(_scale(n, out, factor, False))
    pos = xp.arange(out, dtype=xp.float32)
    src = xp.floor((pos + xp.float32(0.5)) * scale if exact else pos * scale).astype(xp.int64)
    return xp.minimum(src, n - 1)


def _linear_matrix(n: int, out: int, factor, align_corners: bool, dtype) -> Tensor:
    """Rows of two weights (1 − λ, λ) at the source positions PyTorch's upsample_linear computes."""
    scale = _scale(n, out, factor, align_corners)
    dst = xp.arange(out, dtype=xp.float64)
    src = dst * scale if align_corners else xp.maximum((dst + 0.5) * scale - 0.5, 0.0)
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), n - 1)
    i1 = xp.minimum(i0 + 1, n - 1)
    lam = src - i0
    m = xp.zeros((out, n), dtype=xp.float64)
    xp.add.at(m, (xp.arange(out), i0), 1.0 - lam)
    xp.add.at(m, (xp.arange(out), i1), lam)
    return Tensor._make(m.astype(dtype), None)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W): nearest, nearest-exact, linear, bilinear (align_corners) or area."""
    op = "interpolate"
    x = _t(input)
    if mode not in _MODES:
        raise NotImplementedError(f"{op}: mode {mode!r} is not supported; use one of {sorted(_MODES)}")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    spatial = x._data.ndim - 2
    if spatial not in (1, 2):
        raise ShapeError(f"{op}: expects input of shape (N, C, L) or (N, C, H, W), got {tuple(x._data.shape)}")
    linear = _MODES[mode]
    if linear is not None and linear != spatial:
        raise ShapeError(f"{op}: mode {mode!r} needs a {linear + 2}-D input, got shape {tuple(x._data.shape)}")
    if align_corners is not None and linear is None:
        raise ValueError(f"{op}: align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    sizes, factors = _out_sizes(x, size, scale_factor, recompute_scale_factor, spatial, op)
    shape = x._data.shape[2:]
    if mode == "area":
        return (adaptive_avg_pool1d if spatial == 1 else adaptive_avg_pool2d)(x, sizes)
    if linear is None:
        for a, (n, o, f) in enumerate(zip(shape, sizes, factors)):
            idx = _nearest_index(n, o, f, mode == "nearest-exact")
            if o != n or not (idx == xp.arange(n)).all():
                x = x[(slice(None),) * (2 + a) + (idx,)]
        return x
    x = _float_input(x)
    dt = x._data.dtype
    mats = [_linear_matrix(n, o, f, bool(align_corners), dt) for n, o, f in zip(shape, sizes, factors)]
    if spatial == 1:
        return x @ mats[0].transpose(0, 1)
    return mats[0] @ x @ mats[1].transpose(0, 1)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    return interpolate(input, size, scale_factor, mode, align_corners)


# ------------------------------------------------------------------ unfold / fold / pixel shuffle
def _fold_geometry(op: str, kernel_size, dilation, padding, stride) -> dict:
    return {"kernel": arg.pair(op, "kernel_size", kernel_size, 1), "dilation": arg.pair(op, "dilation", dilation, 1),
            "padding": arg.pair(op, "padding", padding, 0), "stride": arg.pair(op, "stride", stride, 1)}


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """(N, C, H, W) -> (N, C·kh·kw, L): every sliding block as a column (im2col)."""
    x = _t(input)
    _ndim(x, (3, 4), "unfold", "(N, C, H, W) or (C, H, W)")
    if x._data.ndim == 3:
        return unfold(x.unsqueeze(0), kernel_size, dilation, padding, stride)[0]
    geo = _fold_geometry("unfold", kernel_size, dilation, padding, stride)
    if min(blocks(x._data.shape, geo)) < 1:
        raise ShapeError(f"unfold: kernel {geo['kernel']} (dilation {geo['dilation']}) does not fit input "
                         f"{tuple(x._data.shape)} with padding {geo['padding']}")
    return apply(UNFOLD, (x,), dict(geo, x_shape=tuple(x._data.shape)))


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """(N, C·kh·kw, L) -> (N, C, H, W): columns summed back into the image (col2im), unfold's adjoint."""
    c = _t(input)
    _ndim(c, (2, 3), "fold", "(N, C·kh·kw, L) or (C·kh·kw, L)")
    if c._data.ndim == 2:
        return fold(c.unsqueeze(0), output_size, kernel_size, dilation, padding, stride)[0]
    geo = _fold_geometry("fold", kernel_size, dilation, padding, stride)
    h, w = arg.pair("fold", "output_size", output_size, 1)
    n, ckk, length = c._data.shape
    kk = geo["kernel"][0] * geo["kernel"][1]
    if ckk % kk:
        raise ShapeError(f"fold: input's axis 1 ({ckk}) must be divisible by the kernel's size {kk} "
                         f"(kernel_size {geo['kernel']})")
    x_shape = (n, ckk // kk, h, w)
    b = blocks(x_shape, geo)
    if b[0] * b[1] != length:
        raise ShapeError(f"fold: input has {length} blocks (axis 2 of {tuple(c._data.shape)}), but output_size "
                         f"{(h, w)} with kernel {geo['kernel']}, stride {geo['stride']}, padding {geo['padding']} "
                         f"holds {b[0]}x{b[1]} = {b[0] * b[1]}")
    return apply(FOLD, (c,), dict(geo, x_shape=x_shape, blocks=b))


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(..., C·r², H, W) -> (..., C, H·r, W·r)."""
    x = _t(input)
    r = arg.integer("pixel_shuffle", "upscale_factor", upscale_factor, 1)
    if x._data.ndim < 3 or x._data.shape[-3] % (r * r):
        raise ShapeError(f"pixel_shuffle: input of shape {tuple(x._data.shape)} needs a channel axis (-3) "
                         f"divisible by upscale_factor² = {r * r}")
    *lead, c, h, w = x._data.shape
    k = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(..., C, H·r, W·r) -> (..., C·r², H, W), pixel_shuffle's inverse."""
    x = _t(input)
    r = arg.integer("pixel_unshuffle", "downscale_factor", downscale_factor, 1)
    if x._data.ndim < 3 or x._data.shape[-1] % r or x._data.shape[-2] % r:
        raise ShapeError(f"pixel_unshuffle: input of shape {tuple(x._data.shape)} needs height and width "
                         f"divisible by downscale_factor {r}")
    *lead, c, h, w = x._data.shape
    k = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


# ------------------------------------------------------------------ pad, with PyTorch's signature
def _source_index(n: int, lo: int, hi: int, mode: str, op: str):
    pos = xp.arange(-lo, n + hi)
    if mode == "replicate":
        return xp.clip(pos, 0, n - 1)
    if mode == "circular":
        if lo > n or hi > n:
            raise ShapeError(f"{op}: circular padding ({lo}, {hi}) must be at most the axis size {n}")
        return pos % n
    if lo >= n or hi >= n:  # reflect
        raise ShapeError(f"{op}: reflect padding ({lo}, {hi}) must be smaller than the axis size {n}")
    period = 2 * (n - 1)
    m = xp.abs(pos) % period if n > 1 else xp.zeros_like(pos)
    return xp.where(m >= n, period - m, m)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """torch.nn.functional.pad: ``pad`` pairs from the last axis backwards; constant, reflect, replicate or
    circular."""
    x = _t(input)
    if mode == "constant":
        return _constant_pad(x, pad, 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', not {mode!r}")
    if value is not None and value != 0:
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > x._data.ndim - 1:
        raise ShapeError(f"pad: {mode} pads up to the last {x._data.ndim - 1} axes of input "
                         f"{tuple(x._data.shape)} (not the first), with a pair per axis; got {pad}")
    for i in range(len(pad) // 2):
        a = x._data.ndim - 1 - i
        lo, hi = int(pad[2 * i]), int(pad[2 * i + 1])
        if lo < 0 or hi < 0:
            raise ValueError(f"pad: negative padding {pad} is only supported in mode 'constant'")
        if lo or hi:
            x = x[(slice(None),) * a + (_source_index(x._data.shape[a], lo, hi, mode, "pad"),)]
    return x
