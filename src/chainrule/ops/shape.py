"""Shape ops: they move values around, so their VJPs move gradients back."""
from __future__ import annotations

from ..backend import xp
from ..errors import DTypeError, ShapeError
from .arraymath import _pad_width
from .axes import integer, integers, normalize, one, pick_axis
from .registry import Case, apply, apply1, as_tensor, defop, public

RESHAPE = defop("reshape", lambda x, shape, old: x.reshape(shape),
                lambda F, g, x, y, kw, need: (F.reshape(g, kw["old"]),), saves="",
                test=Case(lambda t, a: a.reshape(-1, 1), call=lambda a: reshape(a, -1, 1)))
PERMUTE = defop("permute", lambda x, axes, inverse: x.transpose(axes),
                lambda F, g, x, y, kw, need: (F.permute(g, kw["inverse"]),), saves="",
                test=[Case(lambda t, a: a.permute(tuple(reversed(range(a.ndim)))), call=lambda a: a.T),
                      Case(lambda t, a: a.transpose(0, 1), call=lambda a: transpose(a, 0, 1), min_dims=2)])
BROADCAST = defop("broadcast_to", lambda x, shape, old: xp.broadcast_to(x, shape),
                  lambda F, g, x, y, kw, need: (F.sum_to(g, kw["old"]),), saves="",
                  test=Case(lambda t, a: a.expand((2,) + tuple(a.shape)),
                            call=lambda a: broadcast_to(a, (2,) + tuple(a.shape))))


def _cat_vjp(F, g, x, y, kw, need):
    axis, bounds = kw["axis"], kw["bounds"]
    lead = (slice(None),) * axis
    return tuple(
        F.getitem(g, lead + (slice(bounds[i], bounds[i + 1]),)) if need[i] else None
        for i in range(len(bounds) - 1)
    )


CAT = defop("cat", lambda *xs, axis, bounds: xp.concatenate(xs, axis=axis), _cat_vjp, saves="",
            test=[Case(lambda t, a, b: t.cat([a, b], -1), call=lambda a, b: cat([a, b], -1), arity=2, shapes="same",
                       min_dims=1),
                  Case(lambda t, a, b: t.stack([a, b], 0), call=lambda a, b: stack([a, b]), arity=2, shapes="same")])


def _pad_vjp(F, g, x, y, kw, need):
    width = _pad_width(len(kw["old"]), kw["pad"])
    return (F.getitem(g, tuple(slice(b, b + s) for (b, _), s in zip(width, kw["old"]))),)


PAD = defop("pad", lambda x, pad, value, old: xp.pad(x, _pad_width(x.ndim, pad), constant_values=value),
            _pad_vjp, saves="", test=Case(lambda t, a: t.nn.functional.pad(a, (1, 2)), call=lambda a: pad(a, (1, 2)),
                                          min_dims=1))


def _shape_arg(shape, op: str = "reshape", what: str = "the sizes of a shape") -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return integers(shape, op, what)


def reshape(x, *shape):
    shape = _shape_arg(shape)
    x = as_tensor(x)
    old = x._data.shape
    if shape == old:
        return x
    n = x._data.size
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if shape.count(-1) > 1 or (-1 not in shape and known != n) or (-1 in shape and (known == 0 or n % known)):
        raise ShapeError(f"reshape: cannot view a tensor of shape {old} ({n} values) as {shape}")
    return apply1(RESHAPE, x, {"shape": shape, "old": old})


def permute(x, *axes, dims=None):
    x = as_tensor(x)
    axes = _shape_arg(axes if dims is None else (dims,), "permute", "axes")  # dims= is PyTorch's keyword
    nd = x._data.ndim
    if sorted(a % nd if nd else a for a in axes) != list(range(nd)):
        raise ShapeError(f"permute: {axes} is not an ordering of the {nd} axes of shape {x._data.shape}")
    axes = tuple(a % nd for a in axes)
    inverse = tuple(sorted(range(nd), key=axes.__getitem__))
    return apply1(PERMUTE, x, {"axes": axes, "inverse": inverse})


_REVERSED: dict = {}  # ndim -> the permute keywords that reverse all axes


def reverse_axes(x):
    """``x.T``: all axes reversed, without permute's argument checks (they cannot fail)."""
    nd = x._data.ndim
    kw = _REVERSED.get(nd)
    if kw is None:
        axes = tuple(range(nd - 1, -1, -1))
        kw = _REVERSED[nd] = {"axes": axes, "inverse": axes}
    return apply1(PERMUTE, x, kw)


def transpose(x, axis0: int = -2, axis1: int = -1, *, dim0=None, dim1=None):
    """Swap two axes (PyTorch's transpose, not NumPy's); dim0=/dim1= are PyTorch's keywords."""
    axis0 = axis0 if dim0 is None else dim0
    axis1 = axis1 if dim1 is None else dim1
    x = as_tensor(x)
    nd = x._data.ndim
    a, b = one(axis0, nd, "transpose"), one(axis1, nd, "transpose")  # out of range is an error at any ndim
    if nd < 2:
        return x
    axes = list(range(nd))
    axes[a], axes[b] = axes[b], axes[a]
    return permute(x, axes)


def broadcast_to(x, *shape):
    x = as_tensor(x)
    shape = _shape_arg(shape, "broadcast_to")
    if shape == x._data.shape:
        return x
    try:
        xp.broadcast_shapes(x._data.shape, shape)
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x._data.shape} to {shape}") from None
    if len(shape) < x._data.ndim or xp.broadcast_shapes(x._data.shape, shape) != shape:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x._data.shape} to {shape}")
    return apply1(BROADCAST, x, {"shape": shape, "old": x._data.shape})


def expand(x, *shape):
    """broadcast_to where -1 keeps that axis' size (PyTorch's expand)."""
    x = as_tensor(x)
    shape = list(_shape_arg(shape, "expand"))
    off = len(shape) - x._data.ndim
    for i, s in enumerate(shape):
        if s == -1:
            if i < off:
                raise ShapeError(f"expand: -1 is not allowed for a new leading axis (shape {tuple(shape)})")
            shape[i] = x._data.shape[i - off]
    return broadcast_to(x, tuple(shape))


def squeeze(x, axis=None, *, dim=None):
    """Drop size-1 axes; an axis whose size is not 1 is left alone (PyTorch)."""
    x = as_tensor(x)
    axis = pick_axis(axis, dim, "squeeze")
    shape = x._data.shape
    if axis is None:
        keep = [s for s in shape if s != 1]
    else:
        ax = normalize(axis, x._data.ndim, "squeeze") or ()
        keep = [s for i, s in enumerate(shape) if not (i in ax and s == 1)]
    return reshape(x, tuple(keep))


def unsqueeze(x, axis=None, *, dim=None):
    x = as_tensor(x)
    axis = pick_axis(axis, dim, "unsqueeze")
    a = one(axis, x._data.ndim, "unsqueeze", extra=1)
    shape = list(x._data.shape)
    shape.insert(a, 1)
    return reshape(x, tuple(shape))


def flatten(x, start_dim: int = 0, end_dim: int = -1):
    x = as_tensor(x)
    nd = x._data.ndim
    if nd == 0:
        return reshape(x, (1,))
    s, e = one(start_dim, nd, "flatten"), one(end_dim, nd, "flatten")
    if s > e:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x._data.shape
    n = 1
    for v in shape[s:e + 1]:
        n *= v
    return reshape(x, shape[:s] + (n,) + shape[e + 1:])


def cat(tensors, axis: int | None = None, *, dim=None):
    """Along ``axis`` (default 0); ``dim=`` is its alias."""
    axis = pick_axis(axis, dim, "cat")
    axis = 0 if axis is None else axis
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: needs at least one tensor")
    first = tensors[0]._data
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise ShapeError(f"cat: tensor {i} is 0-d and has no axis to join along; use stack")
    a = one(axis, first.ndim, "cat")
    for i, t in enumerate(tensors[1:], 1):
        d = t._data
        if d.ndim != first.ndim or any(p != q for j, (p, q) in enumerate(zip(d.shape, first.shape)) if j != a):
            raise ShapeError(
                f"cat: tensor 0 has shape {first.shape} and tensor {i} has shape {d.shape}; "
                f"all sizes except axis {a} must match"
            )
    _same_dtype([t._data for t in tensors], "cat")
    bounds = [0]
    for t in tensors:
        bounds.append(bounds[-1] + t._data.shape[a])
    return apply(CAT, tuple(tensors), {"axis": a, "bounds": tuple(bounds)})


def stack(tensors, axis: int | None = None, *, dim=None):
    """Along ``axis`` (default 0); ``dim=`` is its alias."""
    axis = pick_axis(axis, dim, "stack")
    axis = 0 if axis is None else axis
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != tensors[0]._data.shape:
            raise ShapeError(
                f"stack: tensor 0 has shape {tensors[0]._data.shape} and tensor {i} has shape "
                f"{t._data.shape}; stack needs equal shapes"
            )
    a = one(axis, tensors[0]._data.ndim, "stack", extra=1)
    return cat([unsqueeze(t, a) for t in tensors], a)


def pad(x, pad, value: float = 0.0, mode: str = "constant"):
    """Constant padding with PyTorch's flat tuple, last axis first."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, not {mode!r}")
    x = as_tensor(x)
    pad = integers(pad, "pad", "pad widths")
    width = _pad_width(x._data.ndim, pad)
    if any(p < 0 for p in pad):  # negative padding crops that side, as in PyTorch
        index = []
        for (lo, hi), n in zip(width, x._data.shape):
            start, stop = max(-lo, 0), n - max(-hi, 0)
            if stop < start:
                raise ShapeError(f"pad: {pad} crops more than the {n} values of an axis of shape {x._data.shape}")
            index.append(slice(start, stop))
        x = x[tuple(index)]
        pad = tuple(max(p, 0) for p in pad)
    return apply1(PAD, x, {"pad": pad, "value": value, "old": x._data.shape})


def _same_dtype(arrays, op: str) -> None:
    dts = {a.dtype for a in arrays}
    if len(dts) > 1:
        raise DTypeError(f"{op}: tensors have different dtypes {sorted(str(d) for d in dts)}; convert them first")



# ------------------------------------------------------------------ more shape ops (PyTorch's names)
FLIP = defop("flip", lambda x, dims: xp.flip(x, axis=dims), lambda F, g, x, y, kw, need: (F.flip(g, kw["dims"]),),
             saves="", test=Case(lambda t, a: a.flip(-1), call=lambda a: flip(a, -1), min_dims=1))
ROLL = defop("roll", lambda x, shifts, dims: xp.roll(x, shifts, axis=dims),
             lambda F, g, x, y, kw, need: (F.roll(g, tuple(-s for s in kw["shifts"]), kw["dims"]),), saves="",
             test=Case(lambda t, a: a.roll(1, -1), call=lambda a: roll(a, 1, -1), min_dims=1))
TRIL = defop("tril", lambda x, diagonal: xp.tril(x, diagonal),
             lambda F, g, x, y, kw, need: (F.tril(g, kw["diagonal"]),), saves="",
             test=Case(lambda t, a: a.tril(), call=lambda a: tril(a), min_dims=2))
TRIU = defop("triu", lambda x, diagonal: xp.triu(x, diagonal),
             lambda F, g, x, y, kw, need: (F.triu(g, kw["diagonal"]),), saves="",
             test=Case(lambda t, a: a.triu(1), call=lambda a: triu(a, 1), min_dims=2))


def _dims(dims, ndim: int, op: str) -> tuple:
    return tuple(one(d, ndim, op) for d in (dims if isinstance(dims, (tuple, list)) else (dims,)))


@public
def flip(x, dims):
    x = as_tensor(x)
    return apply1(FLIP, x, {"dims": _dims(dims, x._data.ndim, "flip")})


@public
def roll(x, shifts, dims=None):
    x = as_tensor(x)
    if dims is None:  # PyTorch: roll the flattened tensor, then restore the shape
        return reshape(roll(reshape(x, -1), shifts, 0), x._data.shape)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = _dims(dims, x._data.ndim, "roll")
    if len(shifts) != len(dims):
        raise ShapeError(f"roll: {len(shifts)} shifts for {len(dims)} dims")
    return apply1(ROLL, x, {"shifts": integers(shifts, "roll", "shifts"), "dims": dims})


def _triangle(op, x, diagonal: int):
    x = as_tensor(x)
    if x._data.ndim < 2:
        raise ShapeError(f"{op.name}: needs at least 2 dimensions, got shape {x._data.shape}")
    return apply1(op, x, {"diagonal": integer(diagonal, op.name, "diagonal")})


@public
def tril(x, diagonal: int = 0):
    """The lower triangle (on and below ``diagonal``) of the last two axes; the rest zero."""
    return _triangle(TRIL, x, diagonal)


@public
def triu(x, diagonal: int = 0):
    """The upper triangle (on and above ``diagonal``) of the last two axes; the rest zero."""
    return _triangle(TRIU, x, diagonal)


@public
def view_as(x, other):
    return reshape(x, tuple(other.shape))


@public
def reshape_as(x, other):
    return reshape(x, tuple(other.shape))


@public
def contiguous(x, memory_format=None):
    """Every chainrule tensor can be read as contiguous (NumPy copies where it must)."""
    return x


@public
def split(x, split_size_or_sections, dim: int = 0):
    """Pieces along ``dim``: of ``split_size`` each (the last may be shorter), or of the given sizes."""
    x = as_tensor(x)
    a = one(dim, x._data.ndim, "split")
    n = x._data.shape[a]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        if n % split_size_or_sections:
            sizes.append(n % split_size_or_sections)
    else:
        sizes = list(integers(split_size_or_sections, "split", "section sizes"))
        if sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} add up to {sum(sizes)}, not the {n} of dim {a}")
    lead, out, start = (slice(None),) * a, [], 0
    for s in sizes:
        out.append(x[lead + (slice(start, start + s),)])
        start += s
    return tuple(out)


@public
def chunk(x, chunks: int, dim: int = 0):
    """``chunks`` pieces of equal size along ``dim`` (the last may be smaller), as PyTorch."""
    x = as_tensor(x)
    n = x._data.shape[one(dim, x._data.ndim, "chunk")]
    return split(x, max(-(-n // integer(chunks, "chunk", "chunks")), 1), dim)


@public
def unbind(x, dim: int = 0):
    """The slices along ``dim``, that axis removed."""
    x = as_tensor(x)
    a = one(dim, x._data.ndim, "unbind")
    return tuple(x[(slice(None),) * a + (i,)] for i in range(x._data.shape[a]))
