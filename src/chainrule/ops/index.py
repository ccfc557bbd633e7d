"""Indexing: ints, slices, None, Ellipsis, integer arrays and boolean masks.

The VJP scatters the gradient back with ``add.at`` so repeated indices
accumulate; its own VJP gathers again, so indexing is twice differentiable.
"""
from __future__ import annotations

from ..backend import xp
from ..errors import IndexOutOfRange
from . import registry
from .registry import Case, apply1, defop, output1

_REPEAT = xp.array([0, 0, 1])
GETITEM = defop("getitem", lambda x, index, old: x[index],
                lambda F, g, x, y, kw, need: (F.index_add_zeros(g, kw["old"], kw["index"]),), saves="",
                test=[Case(lambda t, a: a[..., ::2], call=lambda a: a[..., ::2], min_dims=1),
                      Case(lambda t, a: a[t.tensor([0, 0, 1])], call=lambda a: a[_REPEAT], shapes=[(2, 3)])])
INDEX_ADD = defop("index_add_zeros", lambda g, shape, index: _scatter(g, shape, index),
                  lambda F, g, x, y, kw, need: (F.getitem(g, kw["index"]),), saves="",
                  test=Case(lambda t, g: t.zeros(4, 2, dtype=g.dtype).index_add(0, t.tensor([0, 2, 0]), g),
                            call=lambda g: index_add_zeros(g, (4, 2), (xp.array([0, 2, 0]),)), shapes=[(3, 2)]))


def _scatter(g, shape, index):
    from .arraymath import index_add_zeros as scatter

    return scatter(g, shape, index)


def _raw_index(index):
    """Tensors and lists inside an index become arrays NumPy understands."""
    T = registry._Tensor
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    if isinstance(index, T):
        index = index._data
    elif isinstance(index, list):
        index = xp.asarray(index)
    if isinstance(index, xp.ndarray) and index.dtype.kind == "f":
        raise IndexOutOfRange(f"indexing: index arrays must be integers or booleans, got {index.dtype}")
    return index


def getitem(x, index):
    index = _empty_ellipsis_dropped(_raw_index(index), x._data.ndim)
    split = _ints_first(index)
    if split is not None:
        return getitem(getitem(x, split[0]), split[1])
    d = x._data
    try:
        probe = d[index]
    except IndexError as e:
        raise IndexOutOfRange(f"indexing a tensor of shape {d.shape} with {_describe(index)}: {e}") from None
    if probe.__class__ is not xp.ndarray:  # all integers: NumPy hands back a scalar copy, PyTorch a 0-d view
        index = _as_view_index(index)      # (x[1].add_(1) must change x)
        probe = d[index]
    out = output1(GETITEM, x, d, probe, {"index": index, "old": d.shape})
    if probe.base is not None and not _has_arrays(index):
        out._view_of = (x, index)  # a view: an in-place change of it rebases x (Tensor._in_place)
    return out


def _has_arrays(index) -> bool:
    return any(isinstance(i, xp.ndarray) for i in (index if isinstance(index, tuple) else (index,)))


def _as_view_index(index) -> tuple:
    """An all-integer index that gives a 0-d view: plain ints (0-d index arrays would copy) and a final ``...``."""
    index = index if isinstance(index, tuple) else (index,)
    return tuple(int(i) if isinstance(i, xp.ndarray) else i for i in index) + (Ellipsis,)


def _empty_ellipsis_dropped(index, ndim: int):
    """An Ellipsis that stands for no axis is dropped, as PyTorch expands it before anything else:
    so ``x[:, [0, 1], ..., [0, 1]]`` on a 3-D x keeps the index arrays adjacent and their axis in
    place (PyTorch's (5, 2)), where NumPy would read the Ellipsis as a separator and move it first."""
    if not isinstance(index, tuple) or not any(i is Ellipsis for i in index):
        return index
    used = sum(i.ndim if isinstance(i, xp.ndarray) and i.dtype.kind == "b" else 0 if i is None or i is Ellipsis
               else 1 for i in index)
    return tuple(i for i in index if i is not Ellipsis) if used == ndim else index


def _ints_first(index):
    """PyTorch applies integer indices before array ones, so ``x[0, :, idx]`` keeps ``idx``'s axis in
    place where NumPy would move it to the front.  Returns (ints stage, arrays stage), or None when
    the index does not mix the two."""
    if not isinstance(index, tuple):
        return None
    is_int = [isinstance(i, (int, xp.integer)) and not isinstance(i, (bool, xp.bool_))
              or isinstance(i, xp.ndarray) and i.ndim == 0 and i.dtype.kind in "iu" for i in index]
    is_arr = [isinstance(i, xp.ndarray) and i.ndim > 0 for i in index]
    if not any(is_int) or not any(is_arr):
        return None
    first, second = [], []
    for i, n, a in zip(index, is_int, is_arr):
        if n:
            first.append(i)
        elif a:
            first.extend([slice(None)] * (i.ndim if i.dtype.kind == "b" else 1))
            second.append(i)
        else:  # a slice, None or Ellipsis: applied in the first stage, its axes kept whole in the second
            first.append(i)
            second.append(i if i is Ellipsis else slice(None))
    return tuple(first), tuple(second)


def index_add_zeros(g, shape, index):
    """Zeros of ``shape`` with ``g`` added at ``index`` (differentiable scatter)."""
    return apply1(INDEX_ADD, g, {"shape": tuple(shape), "index": index})


def _describe(index) -> str:
    if isinstance(index, tuple):
        return "[" + ", ".join(_describe(i)[1:-1] for i in index) + "]"
    if isinstance(index, xp.ndarray):
        if not index.size:
            return f"[empty array of shape {index.shape}]"
        return f"[array of shape {index.shape}, values {index.min()}..{index.max()}]"
    return f"[{index!r}]"


