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


# ------------------------------------------------------------------ stacking, splitting, turning
def _tensors(tensors) -> list:
    if isinstance(tensors, registry._Tensor):
        raise ShapeError("expected a sequence of tensors, got one tensor")
    return [as_tensor(t) for t in tensors]


_AT_LEAST = {  # (n, ndim) -> the shape PyTorch gives: (k,) -> (1, k) -> (1, k, 1), (a, b) -> (a, b, 1)
    (1, 0): lambda s: (1,), (2, 0): lambda s: (1, 1), (2, 1): lambda s: (1,) + s,
    (3, 0): lambda s: (1, 1, 1), (3, 1): lambda s: (1,) + s + (1,), (3, 2): lambda s: s + (1,),
}


def _at_least(n: int):
    def fn(*tensors):
        ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
        out = []
        for t in map(as_tensor, ts):
            shape = _AT_LEAST.get((n, t._data.ndim))
            out.append(t if shape is None else reshape(t, shape(t._data.shape)))
        return out[0] if len(out) == 1 else tuple(out)

    fn.__name__ = fn.__qualname__ = f"atleast_{n}d"
    return public(fn, name=fn.__name__, method=False)


atleast_1d, atleast_2d, atleast_3d = _at_least(1), _at_least(2), _at_least(3)


@public(method=False)
def broadcast_tensors(*tensors):
    """The tensors broadcast to one shape (views; gradients summed back)."""
    ts = _tensors(tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors)
    try:
        shape = xp.broadcast_shapes(*[t._data.shape for t in ts])
    except ValueError:
        raise ShapeError("broadcast_tensors: shapes " + ", ".join(str(t._data.shape) for t in ts)
                         + " do not broadcast together") from None
    return tuple(broadcast_to(t, shape) for t in ts)


@public(method=False)
def broadcast_shapes(*shapes):
    from ..tensor import Size

    try:
        return Size(xp.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))
    except ValueError:
        raise ShapeError(f"broadcast_shapes: shapes {shapes} do not broadcast together") from None


@public
def ravel(x):
    return reshape(as_tensor(x), (-1,))


@public(method=False)
def column_stack(tensors):
    """1-D tensors become columns, then all are joined along dim 1."""
    from .shape import cat

    return cat([reshape(t, (-1, 1)) if t._data.ndim <= 1 else t for t in _tensors(tensors)], 1)


@public(method=False)
def dstack(tensors):
    from .shape import cat

    return cat([atleast_3d(t) for t in _tensors(tensors)], 2)


def row_stack(tensors):
    from .shape import cat

    return cat([reshape(t, (1, -1)) if t._data.ndim <= 1 else t for t in _tensors(tensors)], 0)


public(row_stack, name="row_stack", method=False)


_MAX_EMPTY_PIECES = 1 << 20  # a bound on the list of empty pieces a huge section count would build


@public
def tensor_split(x, indices_or_sections, dim: int = 0):
    """``n`` nearly equal pieces along ``dim`` (the first ones one longer), or pieces cut at the given indices."""
    x = as_tensor(x)
    a = one(dim, x._data.ndim, "tensor_split")
    n = x._data.shape[a]
    spec = indices_or_sections
    if isinstance(spec, registry._Tensor):
        spec = spec.item() if spec._data.ndim == 0 else spec.tolist()
    if isinstance(spec, int):
        if spec <= 0:
            raise ShapeError(f"tensor_split: the number of sections must be positive, got {spec}")
        if spec > n + _MAX_EMPTY_PIECES:
            raise ShapeError(f"tensor_split: {spec} sections of a dim of size {n} would be {spec - n} empty tensors")
        size, extra = divmod(n, spec)
        cuts, at = [], 0
        for i in range(spec - 1):
            at += size + (1 if i < extra else 0)
            cuts.append(at)
    else:
        cuts = [int(c) for c in spec]
    lead, bounds = (slice(None),) * a, [0] + cuts + [n]
    return tuple(getitem(x, lead + (slice(min(max(lo, 0), n), min(max(hi, lo, 0), n)),))
                 for lo, hi in zip(bounds[:-1], bounds[1:]))


def _split_at(name: str, dim: int, min_dims: int):
    def fn(x, indices_or_sections):
        x = as_tensor(x)
        if x._data.ndim < min_dims:
            raise ShapeError(f"{name}: needs at least {min_dims} dimensions, got shape {x._data.shape}")
        d = 0 if name == "hsplit" and x._data.ndim == 1 else dim
        if isinstance(indices_or_sections, int) and x._data.shape[d] % indices_or_sections:
            raise ShapeError(f"{name}: size {x._data.shape[d]} of dim {d} does not divide into "
                             f"{indices_or_sections} equal pieces")
        return tensor_split(x, indices_or_sections, d)

    fn.__name__ = fn.__qualname__ = name
    return public(fn, name=name)


hsplit, vsplit, dsplit = _split_at("hsplit", 1, 1), _split_at("vsplit", 0, 2), _split_at("dsplit", 2, 3)


@public
def rot90(x, k: int = 1, dims=(0, 1)):
    """Rotated by 90° k times in the plane of ``dims`` (from the first toward the second)."""
    from .shape import flip

    x = as_tensor(x)
    if len(dims) != 2:
        raise ShapeError(f"rot90: dims must name two dimensions, got {dims}")
    a, b = one(dims[0], x._data.ndim, "rot90"), one(dims[1], x._data.ndim, "rot90")
    if a == b:
        raise ShapeError(f"rot90: the two dims must differ, got {dims}")
    k %= 4
    if k == 1:
        return transpose(flip(x, b), a, b)
    if k == 2:
        return flip(x, (a, b))
    if k == 3:
        return flip(transpose(x, a, b), b)
    return x


@public
def fliplr(x):
    from .shape import flip

    x = as_tensor(x)
    if x._data.ndim < 2:
        raise ShapeError(f"fliplr: needs at least 2 dimensions, got shape {x._data.shape}")
    return flip(x, 1)


@public
def flipud(x):
    from .shape import flip

    x = as_tensor(x)
    if x._data.ndim < 1:
        raise ShapeError("flipud: needs at least 1 dimension, got a 0-d tensor")
    return flip(x, 0)


@public
def diag_embed(x, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """The last dim of ``x`` laid on the diagonal of new (dim1, dim2) matrices, zeros elsewhere."""
    from .index import index_add_zeros

    x = as_tensor(x)
    n = x._data.shape[-1]
    m = n + abs(offset)
    nd = x._data.ndim + 1
    a, b = one(dim1, nd, "diag_embed"), one(dim2, nd, "diag_embed")
    if a == b:
        raise ShapeError(f"diag_embed: dim1 and dim2 must differ, got {dim1} and {dim2}")
    i = xp.arange(n)
    lead = x._data.shape[:-1]
    out = index_add_zeros(x, lead + (m, m), (Ellipsis, i + max(0, -offset), i + max(0, offset)))
    order = [d for d in range(nd) if d not in (a, b)]  # where the leading dims go
    perm = [0] * nd
    for src, dst in enumerate(order + [a, b]):
        perm[dst] = src
    return permute(out, perm)


@public
def diagflat(x, offset: int = 0):
    """The flattened ``x`` on a diagonal of a square matrix."""
    return diag_embed(ravel(x), offset)


@public(method=False)
def block_diag(*tensors):
    """The tensors (0-, 1- or 2-D) as blocks down the diagonal of one matrix."""
    from .shape import cat, pad

    ts = [t if t._data.ndim == 2 else reshape(t, (1, -1)) for t in map(as_tensor, tensors)]
    if any(t._data.ndim > 2 for t in ts):
        raise ShapeError("block_diag: every input must have at most 2 dimensions")
    if not ts:
        return registry._Tensor._make(xp.zeros((1, 0), xp.float32), None)
    width = sum(t._data.shape[1] for t in ts)
    rows, at = [], 0
    for t in ts:
        w = t._data.shape[1]
        rows.append(pad(t, (at, width - at - w)))
        at += w
    return cat(rows, 0)


@public(method=False)
def cartesian_prod(*tensors):
    """Every combination of one value from each 1-D tensor, as rows (a 1-D tensor for one input)."""
    from .shape import stack

    ts = [as_tensor(t) for t in tensors]
    if any(t._data.ndim != 1 for t in ts):
        raise ShapeError("cartesian_prod: every input must be 1-D")
    if len(ts) == 1:
        return ts[0]
    sizes = tuple(t._data.shape[0] for t in ts)
    grids = [reshape(broadcast_to(reshape(t, tuple(-1 if j == i else 1 for j in range(len(ts)))), sizes), (-1,))
             for i, t in enumerate(ts)]
    return stack(grids, 1)


def _triangle_indices(name: str, lower: bool):
    def fn(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None):
        if device is not None:
            from ..devices import check

            check(device, name)
        r, c = (xp.tril_indices if lower else xp.triu_indices)(int(row), int(offset), int(col))
        return registry._Tensor._make(xp.stack([r, c]).astype(dtype or xp.int64), None)

    fn.__name__ = fn.__qualname__ = name
    return public(fn, name=name, method=False)


tril_indices, triu_indices = _triangle_indices("tril_indices", True), _triangle_indices("triu_indices", False)


@public(method=False)
def tensordot(a, b, dims=2):
    """Σ over ``dims`` pairs of axes (an int: a's last and b's first), as PyTorch's tensordot."""
    from .linalg import matmul

    a, b = as_tensor(a), as_tensor(b)
    if isinstance(dims, int):
        if dims < 0 or dims > min(a._data.ndim, b._data.ndim):
            raise ShapeError(f"tensordot: dims={dims} does not fit shapes {a._data.shape} and {b._data.shape}")
        da, db = list(range(a._data.ndim - dims, a._data.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da = [one(d, a._data.ndim, "tensordot") for d in da]
    db = [one(d, b._data.ndim, "tensordot") for d in db]
    if len(da) != len(db) or any(a._data.shape[i] != b._data.shape[j] for i, j in zip(da, db)):
        raise ShapeError(f"tensordot: the contracted dims {da} of {a._data.shape} and {db} of {b._data.shape} differ")
    fa = [i for i in range(a._data.ndim) if i not in da]
    fb = [j for j in range(b._data.ndim) if j not in db]
    k = 1
    for i in da:
        k *= a._data.shape[i]
    am = reshape(permute(a, fa + da), (-1, k))
    bm = reshape(permute(b, db + fb), (k, -1))
    return reshape(matmul(am, bm), tuple(a._data.shape[i] for i in fa) + tuple(b._data.shape[j] for j in fb))
