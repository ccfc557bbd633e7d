"""The last PyTorch names of the sweep: unfold (sliding windows), scatter_reduce, masked_scatter,
unique_consecutive, logdet/slogdet, Tensor.where, and small queries (is_nonzero, is_same_size,
is_signed, is_complex, conj/resolve_conj/resolve_neg/real on real tensors, sum_to_size,
split_with_sizes, data_ptr, storage_offset).  Differentiable ones are compositions of table ops."""
from __future__ import annotations

from typing import Any, NamedTuple

from ..backend import xp
from ..errors import ArgumentError, DTypeError, ShapeError
from . import registry
from .axes import one
from .elementwise import log, where
from .index import getitem, index_add_zeros
from .registry import as_tensor, public
from .shape import permute, reshape


def _const(arr):
    return registry._Tensor._make(xp.asarray(arr), None)


@public
def unfold(x, dimension: int, size: int, step: int):
    """Windows of ``size`` entries every ``step`` along ``dimension``, as a new last dim (PyTorch's
    Tensor.unfold; a copy here, picked by indexing, so the gradient adds up where windows overlap)."""
    x = as_tensor(x)
    nd = max(x._data.ndim, 1)
    a = one(dimension, nd, "unfold")
    n = x._data.shape[a] if x._data.ndim else 1
    if size < 0 or size > n:
        raise ShapeError(f"unfold: size {size} does not fit dimension {dimension} of size {n}")
    if step <= 0:
        raise ArgumentError(f"unfold: step must be positive, got {step}")
    if x._data.ndim == 0:
        return reshape(x, (size,))
    starts = xp.arange(0, n - size + 1, step)
    windows = starts[:, None] + xp.arange(size)[None, :]  # (count, size)
    picked = getitem(x, (slice(None),) * a + (windows,))  # (..., count, size, ...)
    nd_out = picked._data.ndim
    order = [i for i in range(nd_out) if i != a + 1] + [a + 1]
    return permute(picked, order)


@public
def scatter_reduce(x, dim: int, index, src, reduce: str, *, include_self: bool = True):
    """``x`` with ``src``'s values combined at the positions ``index`` names along ``dim`` by ``reduce``
    ("sum", "mean", "amax", "amin"; "prod" is refused); positions no index names keep x's value."""
    from .select import _along, _index_array

    x, src = as_tensor(x), as_tensor(src)
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise ArgumentError(f"scatter_reduce: reduce must be sum, mean, amax or amin, got {reduce!r}")
    a = one(dim, x._data.ndim, "scatter_reduce")
    idx = _index_array(index, "scatter_reduce")
    src = getitem(src, tuple(slice(0, s) for s in idx.shape))
    where_to = _along(idx, a, x._data.shape, "scatter_reduce")
    hits = xp.zeros(x._data.shape, dtype=xp.int64)
    xp.add.at(hits, where_to, 1)
    hit = hits > 0
    keep = x if include_self else where(hit, 0.0 if x._data.dtype.kind == "f" else 0, x)
    if reduce in ("sum", "mean"):
        total = keep + index_add_zeros(src, x._data.shape, where_to)
        if reduce == "sum":
            return total
        count = hits + (1 if include_self else 0)
        return where(hit, total / _const(xp.maximum(count, 1).astype(total._data.dtype)), x)
    if reduce == "prod":
        raise ArgumentError("scatter_reduce: reduce='prod' is not supported; use 'sum', 'mean', 'amax' or 'amin'")
    # amax / amin: the extreme of each target's candidates (x too with include_self), its gradient shared
    # evenly among the candidates equal to it (PyTorch's rule for ties)
    ufunc = xp.maximum if reduce == "amax" else xp.minimum
    best = x._data.copy()
    if not include_self and hit.any():  # start from a value every candidate beats or ties
        best[hit] = src._data.max() if reduce == "amin" else src._data.min()
    ufunc.at(best, where_to, src._data)
    cand_src = src._data == best[where_to]
    equal_x = (x._data == best) & hit  # PyTorch counts x's equal value among the ties even without include_self
    count = xp.zeros(x._data.shape, dtype=x._data.dtype)
    xp.add.at(count, where_to, cand_src.astype(x._data.dtype))
    count = _const(xp.maximum(count + equal_x, 1))
    share = index_add_zeros(where(cand_src, src, 0.0), x._data.shape, where_to)
    if include_self:
        share = share + where(equal_x, x, 0.0)
    share = share / count
    # exactly the extreme, with the shared gradient (an infinite share would make inf - inf: no gradient there)
    value = _const(best) + where(xp.isfinite(share._data), share - share.detach(), 0.0)
    return where(hit, value, x)


@public
def masked_scatter(x, mask, source):
    """``x`` with the positions where ``mask`` is true filled by ``source``'s values, in order."""
    x, source = as_tensor(x), as_tensor(source)
    m = mask._data if isinstance(mask, registry._Tensor) else xp.asarray(mask)
    if m.dtype != xp.bool_:
        raise DTypeError(f"masked_scatter: the mask must be bool, got {m.dtype}")
    m = xp.broadcast_to(m, x._data.shape)
    k = int(m.sum())
    if source._data.size < k:
        raise ShapeError(f"masked_scatter: the mask selects {k} positions, source has only {source._data.size} values")
    values = getitem(reshape(source, (-1,)), slice(0, k))
    return where(m, index_add_zeros(values, x._data.shape, xp.nonzero(m)), x)


@public
def unique_consecutive(x, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """Each run of equal consecutive values kept once (of the flattened x, or of slices along ``dim``)."""
    d = as_tensor(x)._data
    if dim is None:
        flat = d.reshape(-1)
        start = xp.ones(flat.size, dtype=bool)
        start[1:] = flat[1:] != flat[:-1]
        values = flat[start]
        inverse_shape = d.shape
    else:
        a = one(dim, d.ndim, "unique_consecutive")
        moved = xp.moveaxis(d, a, 0).reshape(d.shape[a], -1)
        start = xp.ones(moved.shape[0], dtype=bool)
        start[1:] = (moved[1:] != moved[:-1]).any(axis=1)
        values = xp.compress(start, d, axis=a)
        inverse_shape = (d.shape[a],)
    out = [_const(values)]
    if return_inverse:
        out.append(_const((xp.cumsum(start) - 1).reshape(inverse_shape).astype(xp.int64)))
    if return_counts:
        out.append(_const(xp.diff(xp.append(xp.nonzero(start)[0], start.size)).astype(xp.int64)))
    return out[0] if len(out) == 1 else tuple(out)


class SignLogAbsDet(NamedTuple):
    sign: Any
    logabsdet: Any


@public
def slogdet(x):
    """(sign, log|det|) of each square matrix; differentiable through det."""
    from .elementwise import abs as _abs
    from .products import det

    d = det(x)
    return SignLogAbsDet(_const(xp.sign(d._data)), log(_abs(d)))


@public
def logdet(x):
    """log det: NaN for a negative determinant, -inf for a singular matrix (PyTorch)."""
    from .products import det

    with xp.errstate(invalid="ignore", divide="ignore"):
        return log(det(x))


# ------------------------------------------------------------------ small queries and real-tensor no-ops
@public
def is_nonzero(x) -> bool:
    d = as_tensor(x)._data
    if d.size != 1:
        raise ShapeError(f"is_nonzero: needs a tensor with exactly one value, got shape {d.shape}")
    return bool(d.reshape(()) != 0)


@public
def is_same_size(x, other) -> bool:
    return as_tensor(x)._data.shape == as_tensor(other)._data.shape


@public
def is_signed(x) -> bool:
    return as_tensor(x)._data.dtype.kind in "fi"


@public
def is_complex(x) -> bool:
    return False


def _same(x):
    return as_tensor(x)


for _name in ("conj", "resolve_conj", "resolve_neg", "conj_physical"):
    public(_same, name=_name)


@public(method=False)
def real(x):
    return as_tensor(x)


@public
def sum_to_size(x, *size):
    """``x`` summed down to ``size`` (which x must broadcast to), as PyTorch's Tensor.sum_to_size."""
    from .reduce import sum_to

    x = as_tensor(x)
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    try:
        if xp.broadcast_shapes(size, x._data.shape) != x._data.shape:
            raise ValueError
    except ValueError:
        raise ShapeError(f"sum_to_size: size {size} is not expandable to the tensor's shape {x._data.shape}") from None
    return sum_to(x, size)


@public
def split_with_sizes(x, split_sizes, dim: int = 0):
    from .shape import split

    return split(x, list(split_sizes), dim)


@public
def data_ptr(x) -> int:
    """The address of the first value (tensors sharing memory from the same start share it)."""
    return int(as_tensor(x)._data.__array_interface__["data"][0])


@public
def storage_offset(x) -> int:
    """Elements between the start of the memory this tensor views and its first value."""
    d = as_tensor(x)._data
    base = d
    while isinstance(base.base, xp.ndarray):
        base = base.base
    offset = d.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return int(offset // d.itemsize)
