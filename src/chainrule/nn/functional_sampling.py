"""affine_grid and grid_sample (the spatial transformer's two halves) and local_response_norm, composed of
table ops: the sampling weights are Tensors of the grid (so the grid gets its gradient) and the corner
values are gathered by index (so the input gets its, summed where corners repeat)."""
from __future__ import annotations

from ..backend import xp
from ..errors import ShapeError
from ..ops.shape import pad as _constant_pad
from ..tensor import Tensor

__all__ = ["affine_grid", "grid_sample", "local_response_norm"]


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor.of(x)


def _base(n: int, align_corners: bool, dtype):
    """PyTorch's normalised pixel centres along one axis, in [−1, 1]."""
    if n == 1:
        return xp.zeros(1, dtype=dtype)
    steps = xp.linspace(-1.0, 1.0, n, dtype=xp.float64)
    return (steps if align_corners else steps * (n - 1) / n).astype(dtype)


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """(N, H, W, 2) sampling positions θ·(x, y, 1) for 2-D affine matrices θ (N, 2, 3)."""
    th = _t(theta)
    size = tuple(size)
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid: only 4-D sizes (N, C, H, W) are supported, got {size}")
    n, _, h, w = size
    if th._data.shape != (n, 2, 3):
        raise ShapeError(f"affine_grid: expected theta of shape ({n}, 2, 3) for size {size}, got "
                         f"{tuple(th._data.shape)}")
    if th._data.dtype.kind != "f":
        th = th.float()
    dt = th._data.dtype
    ac = bool(align_corners)
    xs, ys = _base(w, ac, dt), _base(h, ac, dt)
    base = xp.stack([xp.broadcast_to(xs[None, :], (h, w)), xp.broadcast_to(ys[:, None], (h, w)),
                     xp.ones((h, w), dtype=dt)], -1).reshape(1, h * w, 3)
    return (Tensor._make(base, None) @ th.transpose(1, 2)).reshape(n, h, w, 2)


def _unnormalize(coord: Tensor, n: int, align_corners: bool) -> Tensor:
    return (coord + 1.0) * ((n - 1) / 2.0) if align_corners else ((coord + 1.0) * n - 1.0) / 2.0


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample (N, C, H, W) at the (N, Ho, Wo, 2) positions of ``grid`` (x, y in [−1, 1]); bilinear or nearest,
    outside positions reading zeros or the border."""
    op = "grid_sample"
    if mode not in ("bilinear", "nearest"):
        raise NotImplementedError(f"{op}: mode {mode!r} is not supported; use 'bilinear' or 'nearest'")
    if padding_mode not in ("zeros", "border"):
        raise NotImplementedError(f"{op}: padding_mode {padding_mode!r} is not supported; use 'zeros' or 'border'")
    x, g = _t(input), _t(grid)
    if x._data.ndim != 4 or g._data.ndim != 4 or g._data.shape[-1] != 2 or g._data.shape[0] != x._data.shape[0]:
        raise ShapeError(f"{op}: expects input (N, C, H, W) and grid (N, Ho, Wo, 2) with the same N, got "
                         f"{tuple(x._data.shape)} and {tuple(g._data.shape)}")
    if g._data.dtype != x._data.dtype:
        g = g.to(x._data.dtype)
    n, c, h, w = x._data.shape
    ac = bool(align_corners)
    ix, iy = _unnormalize(g[..., 0], w, ac), _unnormalize(g[..., 1], h, ac)
    if padding_mode == "border":
        ix, iy = ix.clamp(0, w - 1), iy.clamp(0, h - 1)
    batch = xp.arange(n)[:, None, None]

    def corner(yi, xi):
        """input at integer positions (N, Ho, Wo) as (N, C, Ho, Wo); zeros outside."""
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        vals = x[batch, :, xp.clip(yi, 0, h - 1), xp.clip(xi, 0, w - 1)]  # (N, Ho, Wo, C)
        vals = vals.permute(0, 3, 1, 2)
        return vals if inside.all() else vals * Tensor._make(inside[:, None].astype(x._data.dtype), None)

    if mode == "nearest":
        return corner(xp.rint(iy._data).astype(xp.int64), xp.rint(ix._data).astype(xp.int64))
    x0, y0 = xp.floor(ix._data).astype(xp.int64), xp.floor(iy._data).astype(xp.int64)
    wx1, wy1 = (ix - x0.astype(ix._data.dtype)).unsqueeze(1), (iy - y0.astype(iy._data.dtype)).unsqueeze(1)
    wx0, wy0 = 1.0 - wx1, 1.0 - wy1
    return (corner(y0, x0) * (wy0 * wx0) + corner(y0, x0 + 1) * (wy0 * wx1) + corner(y0 + 1, x0) * (wy1 * wx0)
            + corner(y0 + 1, x0 + 1) * (wy1 * wx1))


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """x / (k + α·mean of x² over ``size`` neighbouring channels)^β (AlexNet's LRN; the window zero-padded)."""
    x = _t(input)
    if x._data.ndim < 3:
        raise ShapeError(f"local_response_norm: expects input of 3 or more dimensions (N, C, ...), got "
                         f"{tuple(x._data.shape)}")
    if x._data.dtype.kind != "f":
        x = x.float()
    c = x._data.shape[1]
    sq = x * x
    widths = (0, 0) * (x._data.ndim - 2) + (size // 2, (size - 1) // 2)
    padded = _constant_pad(sq, widths)
    total = padded[:, 0:c]
    for i in range(1, size):
        total = total + padded[:, i:i + c]
    return x / (total * (alpha / size) + k) ** beta

