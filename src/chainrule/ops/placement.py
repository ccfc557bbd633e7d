"""Writing values at the positions an index names along one dim: index_add, index_copy, index_fill
(PyTorch's; the in-place ``x.index_add_(...)`` forms write these back).  Built from
``index_add_zeros`` and ``where``, so the gradients are theirs: x gets g except where overwritten,
the source gets g at its positions."""
from __future__ import annotations

from ..backend import xp
from ..errors import IndexOutOfRange, ShapeError
from . import registry
from .axes import one
from .elementwise import where
from .index import index_add_zeros
from .registry import as_tensor, public


def _along(x, dim, index, op: str):
    """(axis, index array, the full index that names those positions along that axis)."""
    a = one(dim, max(x._data.ndim, 1), op)
    idx = index._data if isinstance(index, registry._Tensor) else xp.asarray(index)
    if idx.dtype.kind not in "iu":
        raise IndexOutOfRange(f"{op}: the index must hold integers, got {idx.dtype}")
    if idx.ndim > 1:
        raise ShapeError(f"{op}: the index must be 1-D, got shape {idx.shape}")
    idx = idx.reshape(-1).astype(xp.intp)
    n = x._data.shape[a] if x._data.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexOutOfRange(f"{op}: index values {idx.min()}..{idx.max()} are out of range for size {n} of dim {dim}")
    return a, idx, (slice(None),) * a + (idx % n if n else idx,)


def _source(x, a: int, idx, source, op: str):
    source = as_tensor(source)
    want = x._data.shape[:a] + (idx.size,) + x._data.shape[a + 1:]
    if source._data.shape != want and not (x._data.ndim == 0 and source._data.size == idx.size == 1):
        raise ShapeError(f"{op}: source has shape {source._data.shape}; for index of length {idx.size} along dim {a} "
                         f"of a tensor of shape {x._data.shape} it must be {want}")
    return source.reshape(want) if source._data.shape != want else source


@public
def index_add(x, dim: int, index, source, *, alpha: float = 1):
    """``x`` with ``alpha·source`` added at ``index`` along ``dim`` (repeated indices add up)."""
    x = as_tensor(x)
    a, idx, where_to = _along(x, dim, index, "index_add")
    src = _source(x, a, idx, source, "index_add")
    src = src if alpha == 1 else src * alpha
    return x + index_add_zeros(src, x._data.shape, where_to)


def _mask(x, where_to):
    hit = xp.zeros(x._data.shape, dtype=bool)
    hit[where_to] = True
    return hit


@public
def index_copy(x, dim: int, index, source):
    """``x`` with the slices at ``index`` along ``dim`` replaced by ``source``'s."""
    x = as_tensor(x)
    a, idx, where_to = _along(x, dim, index, "index_copy")
    src = _source(x, a, idx, source, "index_copy")
    if len(set(idx.tolist())) != idx.size:
        raise IndexOutOfRange(f"index_copy: the index repeats a position ({idx.tolist()}); which copy wins is "
                              "undefined in PyTorch")
    return where(_mask(x, where_to), index_add_zeros(src, x._data.shape, where_to), x)


@public
def index_fill(x, dim: int, index, value):
    """``x`` with the slices at ``index`` along ``dim`` set to ``value`` (a number or a 0-d tensor)."""
    x = as_tensor(x)
    _, _, where_to = _along(x, dim, index, "index_fill")
    if isinstance(value, registry._Tensor):
        if value._data.ndim:
            raise ShapeError(f"index_fill: value must be a number or a 0-d tensor, got shape {value._data.shape}")
        if not value.requires_grad:
            value = value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and x._data.dtype.kind == "f":
        value = float(value)
    return where(_mask(x, where_to), value, x)
