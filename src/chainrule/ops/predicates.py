"""Questions about values (no gradient): isnan/isinf/isfinite, counts, and where values fall among
sorted boundaries (bucketize, searchsorted, histogram), as PyTorch's functions of those names."""
from __future__ import annotations

from ..backend import xp
from ..errors import DTypeError, ShapeError
from . import registry
from .axes import normalize
from .registry import as_tensor, public


def _const(arr):
    return registry._Tensor._make(xp.asarray(arr), None)


def _data(x):
    return as_tensor(x)._data


def _test(name: str, fn):
    def test(x):
        return _const(fn(_data(x)))

    test.__name__ = test.__qualname__ = name
    test.__doc__ = f"Elementwise {name}, a bool tensor (integers: never NaN or infinite)."
    return public(test, name=name)


isnan = _test("isnan", xp.isnan)
isinf = _test("isinf", xp.isinf)
isfinite = _test("isfinite", xp.isfinite)
isposinf = _test("isposinf", xp.isposinf)
isneginf = _test("isneginf", xp.isneginf)
signbit = _test("signbit", xp.signbit)


@public
def isreal(x):
    """Every chainrule tensor is real: all True."""
    return _const(xp.ones(_data(x).shape, dtype=bool))


@public
def count_nonzero(x, dim=None):
    """How many entries are not zero, over ``dim`` (an int, a tuple, or all), int64."""
    d = _data(x)
    axis = normalize(dim, d.ndim, "count_nonzero")
    return _const(xp.asarray(xp.count_nonzero(d, axis=axis), dtype=xp.int64))


def _index_dtype(out_int32: bool):
    return xp.int32 if out_int32 else xp.int64


def _numbers(v, op: str, what: str):
    d = v._data if isinstance(v, registry._Tensor) else xp.asarray(v)
    if d.dtype.kind not in "biuf":
        raise DTypeError(f"{op}: {what} must be numbers, got {d.dtype}")
    return d


@public(method=False)
def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False):
    """For each value, the index i of its bucket among 1-D sorted ``boundaries``:
    boundaries[i-1] < v <= boundaries[i] (``right=True``: boundaries[i-1] <= v < boundaries[i])."""
    b = _numbers(boundaries, "bucketize", "boundaries")
    if b.ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be 1-D, got shape {b.shape}")
    v = _numbers(input, "bucketize", "the input")
    return _const(xp.searchsorted(b, v, side="right" if right else "left").astype(_index_dtype(out_int32)))


@public(method=False)
def searchsorted(sorted_sequence, values, *, out_int32: bool = False, right: bool = False, side=None, sorter=None):
    """Where ``values`` would go in ``sorted_sequence`` (along its last dim; one row per leading index)."""
    s = _numbers(sorted_sequence, "searchsorted", "the sorted sequence")
    v = _numbers(values, "searchsorted", "the values")
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError("searchsorted: side='left' contradicts right=True")
        right = side == "right"
    if sorter is not None:
        order = _numbers(sorter, "searchsorted", "the sorter").astype(xp.intp)
        s = xp.take_along_axis(s, order, axis=-1)
    how = "right" if right else "left"
    if s.ndim <= 1:
        return _const(xp.searchsorted(s, v, side=how).astype(_index_dtype(out_int32)))
    if v.ndim == 0 or s.shape[:-1] != v.shape[:-1]:
        raise ShapeError(f"searchsorted: the sorted sequence {s.shape} and the values {v.shape} must have the "
                         "same leading dimensions (all but the last)")
    rows_s, rows_v = s.reshape(-1, s.shape[-1]), v.reshape(-1, v.shape[-1])
    out = xp.stack([xp.searchsorted(r, q, side=how) for r, q in zip(rows_s, rows_v)]) if rows_s.size else \
        xp.zeros(rows_v.shape, dtype=xp.intp)
    return _const(out.reshape(v.shape).astype(_index_dtype(out_int32)))


class Histogram(tuple):
    """(hist, bin_edges), with PyTorch's field names."""

    @property
    def hist(self):
        return self[0]

    @property
    def bin_edges(self):
        return self[1]


@public
def histogram(input, bins=100, *, range=None, weight=None, density: bool = False):
    """Counts (float, the input's dtype) in ``bins`` equal bins over ``range`` (default: the data's),
    or over the edges given as a tensor; the last bin includes its right edge."""
    d = _data(input)
    if d.dtype.kind != "f":
        raise DTypeError(f"histogram: needs a floating-point tensor, got {d.dtype} (PyTorch refuses it too)")
    w = None if weight is None else _data(weight)
    if w is not None and w.shape != d.shape:
        raise ShapeError(f"histogram: weight has shape {w.shape}, the input {d.shape}")
    edges = bins._data if isinstance(bins, registry._Tensor) else bins
    if isinstance(edges, int) and edges <= 0:
        raise ValueError(f"histogram: bins must be positive, got {edges}")
    lo_hi = None  # NumPy's default: the data's range, [0, 1] when empty, v ± 0.5 for one value (PyTorch's too)
    if range is not None:
        lo_hi = (float(range[0]), float(range[1]))
        if lo_hi[0] > lo_hi[1]:
            raise ValueError(f"histogram: range {tuple(range)} has min > max")
    if lo_hi is None and isinstance(edges, int) and d.size and not xp.isfinite(d).all():
        raise ValueError("histogram: the values hold NaN or inf, so they have no finite range; give range=(min, max)")
    hist, e = xp.histogram(d.reshape(-1), bins=edges, range=lo_hi,
                           weights=None if w is None else w.reshape(-1), density=density)
    return Histogram((_const(hist.astype(d.dtype)), _const(xp.asarray(e, dtype=d.dtype))))

