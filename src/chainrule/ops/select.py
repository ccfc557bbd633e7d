"""PyTorch's selection ops (gather, scatter, index_select, masks, sort, topk) as compositions of
indexing: each picks or places values with ``getitem`` / ``index_add_zeros``, whose rules are
in the table, so all of them are differentiable without rules of their own."""
from __future__ import annotations

from typing import Any, NamedTuple

from ..backend import xp
from ..errors import IndexOutOfRange, ShapeError
from . import registry
from .axes import check_indices, one
from .elementwise import where
from .index import getitem, index_add_zeros
from .registry import as_tensor, public


class ValuesIndices(NamedTuple):
    """What sort and topk return, as PyTorch's ``torch.return_types``."""

    values: Any
    indices: Any


def _index_array(index, op: str):
    idx = index._data if isinstance(index, registry._Tensor) else xp.asarray(index)
    if idx.dtype.kind not in "iu":
        raise IndexOutOfRange(f"{op}: the index must hold integers, got {idx.dtype}")
    return idx.astype(xp.intp, copy=False)


def _along(idx, a: int, shape: tuple, op: str) -> tuple:
    """The full index that reads position ``idx[..]`` along axis ``a`` and the same position elsewhere."""
    if idx.ndim != len(shape):
        raise ShapeError(f"{op}: the index has {idx.ndim} dimensions, the tensor {len(shape)}")
    n = shape[a]
    check_indices(idx, n, f"{op} along dim {a}", negative=True)
    grids = list(xp.indices(idx.shape, sparse=True))
    grids[a] = idx % n if n else idx
    return tuple(grids)


@public
def gather(x, dim: int, index):
    """out[i][j][k] = x[i][index[i][j][k]][k] for dim 1 (and likewise for any dim)."""
    x = as_tensor(x)
    a = one(dim, x._data.ndim, "gather")
    return getitem(x, _along(_index_array(index, "gather"), a, x._data.shape, "gather"))


@public
def scatter_add(x, dim: int, index, src):
    """``x`` with ``src``'s values added at the positions ``index`` names along ``dim`` (repeats add up)."""
    x, src = as_tensor(x), as_tensor(src)
    a = one(dim, x._data.ndim, "scatter_add")
    idx = _index_array(index, "scatter_add")
    src = src[tuple(slice(0, s) for s in idx.shape)]
    return x + index_add_zeros(src, x._data.shape, _along(idx, a, x._data.shape, "scatter_add"))


@public
def scatter(x, dim: int, index, src):
    """``x`` with the positions ``index`` names along ``dim`` replaced by ``src``'s values (a number too)."""
    x = as_tensor(x)
    a = one(dim, x._data.ndim, "scatter")
    idx = _index_array(index, "scatter")
    where_to = _along(idx, a, x._data.shape, "scatter")
    hit = xp.zeros(x._data.shape, dtype=bool)
    hit[where_to] = True
    if not isinstance(src, registry._Tensor):
        return where(hit, float(src) if x._data.dtype.kind == "f" else src, x)
    src = src[tuple(slice(0, s) for s in idx.shape)]
    return where(hit, index_add_zeros(src, x._data.shape, where_to), x)


@public
def index_select(x, dim: int, index):
    x = as_tensor(x)
    a = one(dim, x._data.ndim, "index_select")
    idx = _index_array(index, "index_select")
    if idx.ndim != 1:
        raise ShapeError(f"index_select: the index must be 1-D, got shape {idx.shape}")
    return getitem(x, (slice(None),) * a + (idx,))


@public
def masked_fill(x, mask, value):
    """``value`` where ``mask`` is true (broadcast), ``x`` elsewhere; the gradient to x is exact zeros there."""
    x = as_tensor(x)
    m = mask._data if isinstance(mask, registry._Tensor) else xp.asarray(mask)
    if m.dtype != xp.bool_:
        raise TypeError(f"masked_fill: the mask must be bool, got {m.dtype}")
    if isinstance(value, registry._Tensor):
        value = value.item() if value._data.ndim == 0 and not value.requires_grad else value
    return where(m, float(value) if isinstance(value, (int, float)) and x._data.dtype.kind == "f" else value, x)


@public
def masked_select(x, mask):
    """The values where ``mask`` is true, as a 1-D tensor (mask and x broadcast together)."""
    x = as_tensor(x)
    m = mask._data if isinstance(mask, registry._Tensor) else xp.asarray(mask)
    shape = xp.broadcast_shapes(x._data.shape, m.shape)
    if shape != x._data.shape:
        from .shape import broadcast_to

        x = broadcast_to(x, shape)
    return getitem(x, xp.broadcast_to(m, shape))


def _order(x, dim: int, descending: bool, op: str):
    x = as_tensor(x)
    a = one(dim, x._data.ndim, op) if x._data.ndim else 0
    d = x._data
    idx = xp.argsort(-d if descending and d.dtype.kind != "b" else d, axis=a, kind="stable") if d.ndim else \
        xp.zeros((), dtype=xp.intp)
    return x, a, idx


@public
def argsort(x, dim: int = -1, descending: bool = False, stable: bool = False):
    _, _, idx = _order(x, dim, descending, "argsort")
    return registry._Tensor._make(idx.astype(xp.int64), None)


@public
def sort(x, dim: int = -1, descending: bool = False, stable: bool = False) -> ValuesIndices:
    """Sorted values and where they came from; the gradient goes back to those positions."""
    x, a, idx = _order(x, dim, descending, "sort")
    if x._data.ndim == 0:
        return ValuesIndices(x, registry._Tensor._make(idx.astype(xp.int64), None))
    return ValuesIndices(gather(x, a, idx), registry._Tensor._make(idx.astype(xp.int64), None))


@public
def topk(x, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    x, a, idx = _order(x, dim, largest, "topk")
    n = x._data.shape[a] if x._data.ndim else 1
    if not 0 <= k <= n:
        raise ShapeError(f"topk: k={k} is out of range for size {n} of dim {a}")
    idx = xp.take(idx, xp.arange(k), axis=a) if x._data.ndim else idx
    return ValuesIndices(gather(x, a, idx) if x._data.ndim else x, registry._Tensor._make(idx.astype(xp.int64), None))


def put(x, index, value):
    """``x`` with ``x[index]`` replaced by ``value`` (broadcast), out of place and differentiable to both:
    what ``x[index] = value`` records when a gradient is wanted.  Where an index repeats, the last
    value written wins, as in the array assignment (never a sum)."""
    from .index import _raw_index
    from .shape import broadcast_to

    x = as_tensor(x)
    index = _raw_index(index)
    d = x._data
    try:
        picked = d[index]
    except IndexError as e:
        raise IndexOutOfRange(f"item assignment into a tensor of shape {d.shape}: {e}") from None
    picked_shape = xp.shape(picked)
    owner = xp.full(d.shape, -1, dtype=xp.intp)
    owner[index] = xp.arange(int(xp.prod(picked_shape)), dtype=xp.intp).reshape(picked_shape)
    hit = owner >= 0
    if not isinstance(value, registry._Tensor):
        value = registry._Tensor.of(xp.asarray(value, dtype=d.dtype))
    elif value._data.dtype != d.dtype:
        value = value.to(d.dtype)
    try:
        spread = broadcast_to(value, picked_shape).reshape(-1)
    except ShapeError:
        raise ShapeError(f"item assignment: a value of shape {value._data.shape} cannot be broadcast to the "
                         f"indexed shape {picked_shape}") from None
    return where(hit, getitem(spread, xp.where(hit, owner, 0)), x)


@public
def index_put(x, indices: tuple, values, accumulate: bool = False):
    """PyTorch's ``index_put``: ``x[indices] = values`` (or ``+=`` with ``accumulate=True``, repeats adding up)."""
    x = as_tensor(x)
    index = tuple(indices)
    if accumulate:
        from .index import _raw_index

        raw = _raw_index(index)
        picked_shape = xp.shape(x._data[raw])
        values = as_tensor(values) if isinstance(values, registry._Tensor) else \
            registry._Tensor.of(xp.asarray(values, dtype=x._data.dtype))
        from .shape import broadcast_to

        return x + index_add_zeros(broadcast_to(values, picked_shape), x._data.shape, raw)
    return put(x, index, values)
