"""PyTorch names that real scripts use and the table already covers: each is a composition of table
ops (so it is differentiable with no rule of its own) or a query without a gradient.

Found by running PyTorch-idiom scripts unchanged (tests/compat); one line of why per name."""
from __future__ import annotations

import builtins

from ..backend import xp
from ..errors import DTypeError, ShapeError
from . import registry
from .axes import one
from .index import getitem
from .registry import as_tensor, public
from .shape import broadcast_to, cat, reshape, transpose


def _T():
    return registry._Tensor


def _const(arr):
    return _T()._make(xp.asarray(arr), None)


# ------------------------------------------------------------------ views and shapes
@public
def t(x):
    """The transpose of a matrix (a vector or scalar as it is), as ``x.t()``."""
    x = as_tensor(x)
    if x._data.ndim > 2:
        raise ShapeError(f"t: expects a tensor of at most 2 dimensions, got shape {x._data.shape}; "
                         "use .transpose(dim0, dim1) or .mT")
    return x if x._data.ndim < 2 else transpose(x, 0, 1)


@public
def narrow(x, dim: int, start: int, length: int):
    """``length`` entries of ``dim`` from ``start`` (a view, as PyTorch's)."""
    x = as_tensor(x)
    a = one(dim, x._data.ndim, "narrow")
    n = x._data.shape[a]
    start = start + n if start < 0 else start
    if not (0 <= start and length >= 0 and start + length <= n):
        raise ShapeError(f"narrow: start {start} and length {length} do not fit size {n} of dim {dim}")
    return getitem(x, (slice(None),) * a + (slice(start, start + length),))


@public
def select(x, dim: int, index: int):
    """``x`` at position ``index`` of ``dim``, that dim removed (a view)."""
    x = as_tensor(x)
    a = one(dim, x._data.ndim, "select")
    return getitem(x, (slice(None),) * a + (int(index),))


@public
def diagonal(x, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """The diagonal of two dims, as the last dim.  A copy here (PyTorch: a view), so it is read-only:
    an in-place change raises instead of silently missing ``x``."""
    from .shape import permute

    x = as_tensor(x)
    nd = x._data.ndim
    a, b = one(dim1, nd, "diagonal"), one(dim2, nd, "diagonal")
    if a == b:
        raise ShapeError(f"diagonal: dim1 and dim2 are the same dim ({dim1})")
    moved = permute(x, *[k for k in range(nd) if k not in (a, b)], a, b)
    rows, cols = x._data.shape[a], x._data.shape[b]
    n = builtins.max(0, builtins.min(rows - builtins.max(0, -offset), cols - builtins.max(0, offset)))
    i = xp.arange(n)
    out = getitem(moved, (Ellipsis, i + builtins.max(0, -offset), i + builtins.max(0, offset)))
    out._data.flags.writeable = False
    return out


@public
def diag(x, diagonal: int = 0):
    """A 1-D x: the square matrix with x on a diagonal; a 2-D x: that diagonal."""
    x = as_tensor(x)
    if x._data.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    if x._data.ndim != 1:
        raise ShapeError(f"diag: expects a 1-D or 2-D tensor, got shape {x._data.shape}")
    n = x._data.shape[0] + builtins.abs(diagonal)
    i = xp.arange(x._data.shape[0])
    rows, cols = i + builtins.max(0, -diagonal), i + builtins.max(0, diagonal)
    from .index import index_add_zeros

    return index_add_zeros(x, (n, n), (rows, cols))


@public
def repeat(x, *sizes):
    """``x`` tiled ``sizes`` times along each dim (leading new dims allowed), as PyTorch's ``repeat``."""
    x = as_tensor(x)
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    if len(sizes) < x._data.ndim:
        raise ShapeError(f"repeat: {len(sizes)} sizes for a tensor of {x._data.ndim} dimensions (give one per dim)")
    shape = (1,) * (len(sizes) - x._data.ndim) + x._data.shape
    x = reshape(x, shape)
    spread = broadcast_to(reshape(x, tuple(v for s in shape for v in (1, s))),
                          tuple(v for r, s in zip(sizes, shape) for v in (r, s)))
    return reshape(spread, tuple(r * s for r, s in zip(sizes, shape)))


@public
def expand_as(x, other):
    return broadcast_to(as_tensor(x), tuple(other.shape))


@public
def repeat_interleave(x, repeats, dim: int | None = None):
    """Each entry repeated ``repeats`` times (an int or one count per entry), along ``dim`` (flattened if None)."""
    x = as_tensor(x)
    if dim is None:
        x, dim = reshape(x, (-1,)), 0
    a = one(dim, x._data.ndim, "repeat_interleave")
    counts = repeats._data if isinstance(repeats, registry._Tensor) else repeats
    idx = xp.repeat(xp.arange(x._data.shape[a]), counts)
    return getitem(x, (slice(None),) * a + (idx,))


@public
def type_as(x, other):
    return as_tensor(x).to(other.dtype)


@public
def hstack(tensors):
    tensors = [as_tensor(v) for v in tensors]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


@public
def vstack(tensors):
    return cat([v if v._data.ndim > 1 else reshape(v, (1, -1)) for v in map(as_tensor, tensors)], 0)


concat = public(cat, name="concat", method=False)


@public(method=False)
def meshgrid(*tensors, indexing: str = "ij"):
    """Coordinate grids (``indexing="ij"`` or ``"xy"``), broadcast views of the inputs, so differentiable."""
    tensors = tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    tensors = [as_tensor(v) for v in tensors]
    sizes = [v._data.shape[0] for v in tensors]
    if indexing == "xy" and len(sizes) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, v in enumerate(tensors):
        at = i if indexing == "ij" or len(sizes) < 2 else {0: 1, 1: 0}.get(i, i)
        shape = [1] * len(sizes)
        shape[at] = sizes[at]
        out.append(broadcast_to(reshape(v, tuple(shape)), tuple(sizes)))
    return tuple(out)


# ------------------------------------------------------------------ arithmetic compositions
@public
def square(x):
    return as_tensor(x) * as_tensor(x)


@public
def rsqrt(x):
    return as_tensor(x) ** -0.5


@public
def reciprocal(x):
    x = as_tensor(x)
    return 1.0 / (x.float() if x._data.dtype.kind != "f" else x)


@public
def sinh(x):
    from .elementwise import exp

    return (exp(x) - exp(-as_tensor(x))) * 0.5


@public
def cosh(x):
    from .elementwise import exp

    return (exp(x) + exp(-as_tensor(x))) * 0.5


@public
def lerp(x, end, weight):
    """x + weight·(end − x)."""
    x = as_tensor(x)
    return x + weight * (end - x)


@public
def addmm(input, mat1, mat2, *, beta: float = 1.0, alpha: float = 1.0):
    """beta·input + alpha·(mat1 @ mat2)."""
    from .linalg import matmul

    prod = matmul(mat1, mat2)
    prod = prod if alpha == 1 else prod * alpha
    return prod if beta == 0 else prod + (input if beta == 1 else input * beta)


@public
def prod(x, dim: int | None = None, keepdim: bool = False, *, dtype=None):
    """The product over ``dim`` (all entries if None): the last running product, so the gradient is
    exact where entries are zero."""
    from .reduce import cumprod

    x = as_tensor(x) if dtype is None else as_tensor(x).to(dtype)
    if dim is None:
        out = select(cumprod(reshape(x, (-1,)), 0), 0, -1) if x._data.size else _const(xp.ones((), x._data.dtype))
        return out
    a = one(dim, x._data.ndim, "prod")
    out = select(cumprod(x, a), a, -1)
    return out if not keepdim else reshape(out, x._data.shape[:a] + (1,) + x._data.shape[a + 1:])


def _mean_and(stat, x, dim, correction, keepdim):
    from .reduce import mean

    kw = {} if correction is None else {"correction": correction}
    return stat(x, dim, keepdim=keepdim, **kw), mean(x, dim, keepdim=keepdim)


@public(method=False)
def std_mean(x, dim=None, *, correction=None, keepdim: bool = False):
    """(std, mean) over ``dim``, as PyTorch's ``std_mean``."""
    from .reduce import std

    return _mean_and(std, as_tensor(x), dim, correction, keepdim)


@public(method=False)
def var_mean(x, dim=None, *, correction=None, keepdim: bool = False):
    from .reduce import var

    return _mean_and(var, as_tensor(x), dim, correction, keepdim)


# ------------------------------------------------------------------ queries (no gradient)
@public
def nonzero(x, *, as_tuple: bool = False):
    """The indices of the non-zero entries: one row per entry (or one tensor per dim with ``as_tuple``)."""
    d = as_tensor(x)._data
    found = xp.nonzero(d) if d.ndim else xp.nonzero(d.reshape(1))
    if as_tuple:
        return tuple(_const(i.astype(xp.int64)) for i in found)
    return _const(xp.stack(found, axis=1).astype(xp.int64) if found else xp.zeros((0, 0), xp.int64))


@public
def argwhere(x):
    return nonzero(x)


@public(method=False)
def bincount(x, weights=None, minlength: int = 0):
    d = as_tensor(x)._data
    if d.ndim != 1 or d.dtype.kind not in "iu":
        raise DTypeError(f"bincount: expects a 1-D tensor of non-negative integers, got {d.dtype} of shape {d.shape}")
    w = None if weights is None else as_tensor(weights)._data
    out = xp.bincount(d, weights=w, minlength=minlength)
    return _const(out if w is not None else out.astype(xp.int64))


@public
def unique(x, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """The distinct values, sorted (PyTorch sorts on the CPU whatever ``sorted`` says); with ``dim``, the
    distinct slices along it, in lexicographic order, the inverse then one index per slice."""
    d = as_tensor(x)._data
    if dim is not None:
        a = one(dim, d.ndim, "unique")
        values, inverse, counts = xp.unique(d, return_inverse=True, return_counts=True, axis=a)
        shape = (d.shape[a],)
    else:
        values, inverse, counts = xp.unique(d, return_inverse=True, return_counts=True)
        shape = d.shape
    out = [_const(values)]
    if return_inverse:
        out.append(_const(inverse.reshape(shape).astype(xp.int64)))
    if return_counts:
        out.append(_const(counts.astype(xp.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def _logical(fn, name):
    def op(a, b=None):
        ad = as_tensor(a)._data
        if b is None:
            return _const(fn(ad))
        return _const(fn(ad, b._data if isinstance(b, registry._Tensor) else xp.asarray(b)))

    op.__name__ = op.__qualname__ = name
    return public(op, name=name)


logical_and = _logical(xp.logical_and, "logical_and")
logical_or = _logical(xp.logical_or, "logical_or")
logical_xor = _logical(xp.logical_xor, "logical_xor")
logical_not = _logical(xp.logical_not, "logical_not")


@public
def numel(x) -> int:
    return int(as_tensor(x)._data.size)


@public
def is_floating_point(x) -> bool:
    return as_tensor(x)._data.dtype.kind == "f"


@public
def is_contiguous(x, memory_format=None) -> bool:
    """Whether the values lie in row-major order (what ``.view`` needs in PyTorch)."""
    return bool(as_tensor(x)._data.flags.c_contiguous)


@public
def element_size(x) -> int:
    return int(as_tensor(x)._data.itemsize)


@public
def ndimension(x) -> int:
    return int(as_tensor(x)._data.ndim)


def _int_pair(a, b) -> bool:
    kinds = [(v._data.dtype.kind if isinstance(v, registry._Tensor) else ("f" if isinstance(v, float) else "i"))
             for v in (a, b)]
    return all(k in "iub" for k in kinds)


def _raw(v):
    return v._data if isinstance(v, registry._Tensor) else v


@public
def floor_divide(a, b):
    """a // b rounded toward −∞ (Python's and PyTorch's rule); integers stay integers."""
    if _int_pair(a, b):
        return _const(xp.floor_divide(_raw(a), _raw(b)))
    from .rounding import floor

    return floor(as_tensor(a) / b)
