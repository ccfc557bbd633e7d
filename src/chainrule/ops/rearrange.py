"""Moving values around by PyTorch's other names: tile, take, take_along_dim, movedim/moveaxis,
swapaxes/swapdims, unflatten.  Compositions of reshape, broadcast, permute and indexing, so their
gradients are those ops' (no rules here)."""
from __future__ import annotations

from ..backend import xp
from ..errors import IndexOutOfRange, ShapeError
from . import registry
from .axes import one
from .index import getitem
from .registry import as_tensor, public
from .shape import broadcast_to, permute, reshape, transpose


def _sizes(sizes: tuple) -> tuple:
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return tuple(int(s) for s in sizes)


@public
def tile(x, *dims):
    """``x`` repeated ``dims`` times along each axis; fewer dims than axes count from the last axis
    (PyTorch's tile; ``repeat`` wants one per axis)."""
    x = as_tensor(x)
    reps = _sizes(dims)
    if any(r < 0 for r in reps):
        raise ShapeError(f"tile: repetitions must not be negative, got {reps}")
    n = max(len(reps), x._data.ndim)
    reps = (1,) * (n - len(reps)) + reps
    shape = (1,) * (n - x._data.ndim) + x._data.shape
    spread = broadcast_to(reshape(x, tuple(v for s in shape for v in (1, s))),
                          tuple(v for r, s in zip(reps, shape) for v in (r, s)))
    return reshape(spread, tuple(r * s for r, s in zip(reps, shape)))


def _indices(index, op: str):
    idx = index._data if isinstance(index, registry._Tensor) else xp.asarray(index)
    if idx.dtype.kind not in "iu":
        raise IndexOutOfRange(f"{op}: the indices must be integers, got {idx.dtype}")
    return idx.astype(xp.intp, copy=False)


def _in_range(idx, n: int, op: str, what: str) -> None:
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexOutOfRange(f"{op}: index values {idx.min()}..{idx.max()} are out of range for {what} of size {n}")


@public
def take(x, index):
    """The entries at ``index`` of the flattened ``x``, in ``index``'s shape."""
    x = as_tensor(x)
    idx = _indices(index, "take")
    _in_range(idx, x._data.size, "take", "the flattened tensor")
    return getitem(reshape(x, (-1,)), idx)


@public
def take_along_dim(x, indices, dim=None):
    """Values picked along ``dim`` by ``indices`` (broadcast against x except along dim; with
    dim None, from the flattened x), as PyTorch's take_along_dim."""
    x = as_tensor(x)
    idx = _indices(indices, "take_along_dim")
    if dim is None:
        return take(x, idx.reshape(-1))
    a = one(dim, x._data.ndim, "take_along_dim")
    if idx.ndim != x._data.ndim:
        raise ShapeError(f"take_along_dim: the indices have {idx.ndim} dimensions, the tensor "
                         f"{x._data.ndim} (shapes {idx.shape} and {x._data.shape})")
    n = x._data.shape[a]
    _in_range(idx, n, "take_along_dim", f"dim {dim}")
    try:
        others = xp.broadcast_shapes(x._data.shape[:a] + (1,) + x._data.shape[a + 1:],
                                     idx.shape[:a] + (1,) + idx.shape[a + 1:])
    except ValueError:
        raise ShapeError(f"take_along_dim: shapes {x._data.shape} and {idx.shape} do not broadcast outside "
                         f"dim {dim}") from None
    x_shape = others[:a] + (n,) + others[a + 1:]
    i_shape = others[:a] + (idx.shape[a],) + others[a + 1:]
    x = broadcast_to(x, x_shape) if x._data.shape != x_shape else x
    idx = xp.broadcast_to(idx % n if n else idx, i_shape)
    grids = list(xp.indices(i_shape, sparse=True))
    grids[a] = idx
    return getitem(x, tuple(grids))


@public
def movedim(x, source, destination):
    """Axes ``source`` moved to positions ``destination`` (ints or sequences), the others in order."""
    x = as_tensor(x)
    nd = x._data.ndim
    src = tuple(source) if isinstance(source, (tuple, list)) else (source,)
    dst = tuple(destination) if isinstance(destination, (tuple, list)) else (destination,)
    if len(src) != len(dst):
        raise ShapeError(f"movedim: {len(src)} source dims and {len(dst)} destinations")
    src = tuple(one(s, nd, "movedim") for s in src)
    dst = tuple(one(d, nd, "movedim") for d in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ShapeError(f"movedim: repeated dims in {tuple(source) if isinstance(source, (tuple, list)) else source}"
                         f" -> {destination}")
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return x if order == list(range(nd)) else permute(x, order)


moveaxis = public(movedim, name="moveaxis")


@public
def swapaxes(x, axis0: int, axis1: int):
    """PyTorch's alias of transpose."""
    return transpose(x, axis0, axis1)


@public
def swapdims(x, dim0: int, dim1: int):
    """PyTorch's alias of transpose."""
    return transpose(x, dim0, dim1)


@public
def unflatten(x, dim: int, sizes):
    """Axis ``dim`` split into ``sizes`` (one may be -1)."""
    x = as_tensor(x)
    a = one(dim, x._data.ndim, "unflatten")
    sizes = _sizes((sizes,))
    if not sizes:
        raise ShapeError("unflatten: sizes must not be empty")
    n = x._data.shape[a]
    known = 1
    for s in sizes:
        known *= s if s != -1 else 1
    if sizes.count(-1) > 1 or (-1 not in sizes and known != n) or (-1 in sizes and (known == 0 or n % known)):
        raise ShapeError(f"unflatten: sizes {sizes} do not split dim {dim} of size {n} (shape {x._data.shape})")
    return reshape(x, x._data.shape[:a] + sizes + x._data.shape[a + 1:])


@public(method=False)
def clone(x, *, memory_format=None):
    """A copy (differentiable: the gradient passes through), as ``x.clone()``."""
    return as_tensor(x).clone()
