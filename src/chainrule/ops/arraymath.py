"""The namespace VJP rules use on the fast path: plain functions on raw arrays.

Every name here also exists among the public ops (on Tensors), so a rule
written once runs on either; ``check_namespaces`` holds the two in step.
"""
from __future__ import annotations

from ..backend import xp
from ..errors import ShapeError

_add_reduce = xp.add.reduce
_SHARED: dict = {}  # ("ones", shape, dtype) / ("rows", n) -> a read-only array
_SHARED_MAX = 64  # a bound: a program that sees thousands of batch sizes must not keep them all


def _shared(key: tuple, make):
    """One read-only array per key, made on first use and reused by every call after."""
    arr = _SHARED.get(key)
    if arr is None:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.pop(next(iter(_SHARED)))  # the oldest goes (dicts keep insertion order)
        arr = _SHARED[key] = make()
        arr.flags.writeable = False
    return arr


def ones(shape: tuple, dtype):
    """Shared ones: sums written as BLAS products (``ones @ g``) reuse them.

    A matrix-vector product sums the rows of a (N, C) array about twice as fast as
    NumPy's reduction over axis 0, and sums short rows without a per-row loop.
    """
    return _shared(("ones", shape, dtype), lambda: xp.ones(shape, dtype=dtype))


def row_numbers(n: int):
    """A shared ``arange(n)``: the row index of ``x[rows, cols]`` picks."""
    return _shared(("rows", n), lambda: xp.arange(n))


def broadcast_to(g, shape: tuple, /):
    """A writable copy for small results (NumPy's view costs microseconds), a view for large."""
    if g.size == 1 and _prod(shape) <= 65536:
        out = xp.empty(shape, dtype=g.dtype)
        out.fill(g.reshape(()))
        return out
    return xp.broadcast_to(g, shape)


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def index_add_zeros(g, shape: tuple, index):
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate)."""
    out = xp.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g
    else:
        xp.add.at(out, index, g)
    return out


def select_grad(mask, g):
    """``where(mask, g, 0)`` on arrays, branch-free: g's bits ANDed with all-ones or all-zeros.

    A gradient gated by a mask must be selected, not multiplied (inf·0 is NaN, PyTorch gives 0);
    NumPy's ``where`` over a random mask is ~10× slower than a multiply, this costs about the same.
    """
    bits = _BITS.get(g.dtype)
    if bits is None or g.shape != mask.shape or not g.ndim:  # (0-d: NumPy gives scalars, not arrays)
        return xp.where(mask, g, g.dtype.type(0))
    out = _negative(mask.view(xp.uint8), dtype=bits)  # True -> all ones (unsigned wrap-around), False -> 0
    return _and(g.view(bits), out, out=out).view(g.dtype)


_BITS = {xp.dtype(f"f{n}"): xp.dtype(f"u{n}") for n in (2, 4, 8)}
_negative, _and = xp.negative, xp.bitwise_and


def _is_basic(index) -> bool:
    """Slices, ints, None and Ellipsis never repeat a position."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


class ArrayMath:
    """``F`` on the first-order path.  Every name here is also a public op in ``chainrule.ops``
    taking the same arguments; ``check_namespaces`` enforces that when ``chainrule.ops`` loads.
    The ops' own forwards (exp, sigmoid, softmax, ...) are added from the table by ``add_forwards``."""

    sign = staticmethod(xp.sign)
    broadcast_to = staticmethod(broadcast_to)
    index_add_zeros = staticmethod(index_add_zeros)

    @staticmethod
    def sum_to(x, shape):
        from ..autograd import sum_to

        return sum_to(ArrayMath, x, tuple(shape))

    @staticmethod
    def reshape(x, shape, /):
        return x.reshape(shape)

    @staticmethod
    def permute(x, axes, /):
        return x.transpose(axes)

    @staticmethod
    def transpose(x, axis0: int, axis1: int):
        return x.swapaxes(axis0, axis1)

    @staticmethod
    def sum(x, axis=None, keepdims: bool = False):
        return _add_reduce(x, axis=axis, keepdims=keepdims)  # ndarray.sum's Python wrapper costs µs

    @staticmethod
    def cast(x, dtype):
        return x.astype(dtype)

    @staticmethod
    def run(op, inputs: tuple, kw: dict | None = None):
        """Another op of the table: its forward on arrays (on Tensors: applied and recorded)."""
        y = op.fwd(*inputs, **kw) if kw else op.fwd(*inputs)
        return y[0] if op.residual else y

    @staticmethod
    def getitem(x, index):
        return x[index]

    @staticmethod
    def pad(x, pad, value=0.0):
        return xp.pad(x, _pad_width(x.ndim, pad), constant_values=value)


def add_forwards(registry: dict, names) -> None:
    """``F.<name>`` on arrays is the table entry's own forward (its arguments are the public op's)."""
    for name in names:
        setattr(ArrayMath, name, staticmethod(registry[name].fwd))


def check_namespaces(tensor_math) -> None:
    """Both ``F`` namespaces offer the same functions with the same arguments, so a rule that
    runs on one path runs on the other (checked once, when ``chainrule.ops`` is imported)."""
    import inspect

    for name, fn in vars(ArrayMath).items():
        if name.startswith("_"):
            continue
        other = getattr(tensor_math, name, None)
        if other is None:
            raise ImportError(f"F.{name} exists for arrays (ArrayMath) but not as chainrule.ops.{name}")
        fn = fn.__func__ if hasattr(fn, "__func__") else fn
        sig = inspect.signature(other)
        if isinstance(fn, xp.ufunc):  # its operands, positional only
            positional, named = [None] * fn.nin, []
        else:
            params = inspect.signature(fn).parameters.values()
            positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                          and p.name != "out"]  # (a forward's own output buffer is no part of F)
            first = max(1, sum(p.kind is p.POSITIONAL_ONLY for p in positional))
            named = [p.name for p in positional[first:]]
        try:
            sig.bind(*[None] * len(positional))
            sig.bind(*[None] * (len(positional) - len(named)), **{n: None for n in named})  # rules name options
        except TypeError as e:
            raise ImportError(f"F.{name}: chainrule.ops.{name}{sig} does not take ArrayMath's arguments: {e}") from None


def _pad_width(ndim: int, pad) -> list:
    """PyTorch's flat pad tuple (last axis first) as NumPy's per-axis pairs."""
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ShapeError(f"pad: {tuple(pad)} must hold a (before, after) pair per axis, at most {ndim} pairs")
    width = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        width[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return width
