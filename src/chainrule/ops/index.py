"""Indexing: ints, slices, None, Ellipsis, integer arrays and boolean masks.

The VJP scatters the gradient back with ``add.at`` so repeated indices
accumulate; its own VJP gathers again, so indexing is twice differentiable.
"""
from __future__ import annotations

from ..backend import xp
from ..errors import IndexOutOfRange
from . import registry
from .registry import apply1, defop

GETITEM = defop("getitem", lambda x, index, old: x[index],
                lambda F, g, x, y, kw, need: (F.index_add_zeros(g, kw["old"], kw["index"]),), saves="")
INDEX_ADD = defop("index_add_zeros", lambda g, shape, index: _scatter(g, shape, index),
                  lambda F, g, x, y, kw, need: (F.getitem(g, kw["index"]),), saves="")


def _scatter(g, shape, index):
    from .arraymath import index_add_zeros as scatter

    return scatter(g, shape, index)


def _raw_index(index):
    """Tensors and lists inside an index become arrays NumPy understands."""
    T = registry._Tensor
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    if isinstance(index, T):
        index = index.data
    elif isinstance(index, list):
        index = xp.asarray(index)
    if isinstance(index, xp.ndarray) and index.dtype.kind == "f":
        raise IndexOutOfRange(f"indexing: index arrays must be integers or booleans, got {index.dtype}")
    return index


def getitem(x, index):
    index = _raw_index(index)
    d = x.data
    try:
        probe = d[index]
    except IndexError as e:
        raise IndexOutOfRange(f"indexing a tensor of shape {d.shape} with {_describe(index)}: {e}") from None
    if probe.__class__ is not xp.ndarray:
        probe = xp.asarray(probe)
    node = None
    from .. import autograd as _ag

    if _ag._grad_enabled and x._rg:
        node = _ag.Node(GETITEM, (x.grad_fn or x,), (True,), None, None, None, {"index": index, "old": d.shape})
    return registry._Tensor._make(probe, node)


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


