"""The namespace VJP rules use on the fast path: plain functions on raw arrays.

Every name here also exists among the public ops (on Tensors), so a rule
written once runs on either; see ``registry.py``.
"""
from __future__ import annotations

from ..backend import xp
from ..errors import ShapeError

_add_reduce = xp.add.reduce
_SHARED: dict = {}  # ("ones", shape, dtype) / ("rows", n) -> a read-only array


def _shared(key: tuple, make):
    """One read-only array per key, made on first use and reused by every call after."""
    arr = _SHARED.get(key)
    if arr is None:
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


def sum_to(g, shape: tuple):
    """Undo broadcasting: sum ``g`` down to ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    out = _add_reduce(g, axis=axes, keepdims=True) if axes else g
    if lead:
        out = out.reshape(out.shape[lead:])
    return out


def broadcast_to(g, shape: tuple):
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


def _is_basic(index) -> bool:
    """Slices, ints, None and Ellipsis never repeat a position."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


class ArrayMath:
    sum_to = staticmethod(sum_to)
    index_add_zeros = staticmethod(index_add_zeros)
    exp = staticmethod(xp.exp)
    tanh = staticmethod(xp.tanh)
    log = staticmethod(xp.log)
    sin = staticmethod(xp.sin)
    cos = staticmethod(xp.cos)
    sign = staticmethod(xp.sign)
    where = staticmethod(xp.where)
    matmul = staticmethod(xp.matmul)
    broadcast_to = staticmethod(broadcast_to)

    @staticmethod
    def reshape(x, shape):
        return x.reshape(shape)

    @staticmethod
    def permute(x, axes):
        return x.transpose(axes)

    @staticmethod
    def transpose(x, a: int, b: int):
        return x.swapaxes(a, b)

    @staticmethod
    def sum(x, axis=None, keepdims: bool = False):
        return _add_reduce(x, axis=axis, keepdims=keepdims)  # ndarray.sum's Python wrapper costs µs

    @staticmethod
    def softmax(x, axis):
        from .softmax import _softmax_fwd

        return _softmax_fwd(x, axis)

    @staticmethod
    def log_softmax(x, axis):
        from .softmax import _log_softmax_fwd

        return _log_softmax_fwd(x, axis)

    @staticmethod
    def gelu_cdf(x):
        from .elementwise import GELU_CDF

        return GELU_CDF.fwd(x)

    @staticmethod
    def getitem(x, index):
        return x[index]

    @staticmethod
    def pad(x, pad, value=0.0):
        return xp.pad(x, _pad_width(x.ndim, pad), constant_values=value)


def _pad_width(ndim: int, pad) -> list:
    """PyTorch's flat pad tuple (last axis first) as NumPy's per-axis pairs."""
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ShapeError(f"pad: {tuple(pad)} must hold a (before, after) pair per axis, at most {ndim} pairs")
    width = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        width[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return width
