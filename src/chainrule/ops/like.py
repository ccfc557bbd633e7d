"""PyTorch's ``x.new_ones(...)`` family: a new tensor with ``x``'s dtype unless told otherwise.

Exported through the op table's ``public`` so they are Tensor methods (they also appear as
``chainrule.new_ones(x, ...)``, a name PyTorch lacks; harmless, and one mechanism, not two)."""
from __future__ import annotations

from ..backend import xp
from . import registry
from .registry import public


def _shape(size: tuple) -> tuple:
    from ..creation import _shape as checked

    return checked(size)


def _make(arr, requires_grad: bool):
    t = registry._Tensor._make(arr, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _dtype(x, dtype):
    return x._data.dtype if dtype is None else xp.dtype(dtype)


@public
def new_ones(x, *size, dtype=None, requires_grad: bool = False, device=None):
    return _make(xp.ones(_shape(size), dtype=_dtype(x, dtype)), requires_grad)


@public
def new_zeros(x, *size, dtype=None, requires_grad: bool = False, device=None):
    return _make(xp.zeros(_shape(size), dtype=_dtype(x, dtype)), requires_grad)


@public
def new_empty(x, *size, dtype=None, requires_grad: bool = False, device=None):
    return _make(xp.zeros(_shape(size), dtype=_dtype(x, dtype)), requires_grad)


@public
def new_full(x, size, fill_value, dtype=None, requires_grad: bool = False, device=None):
    return _make(xp.full(_shape((size,) if isinstance(size, int) else (tuple(size),)), fill_value,
                         dtype=_dtype(x, dtype)), requires_grad)


@public
def new_tensor(x, data, dtype=None, requires_grad: bool = False, device=None):
    """A copy of ``data`` as a leaf, in ``x``'s dtype unless ``dtype`` is given (PyTorch's rule)."""
    return registry._Tensor.of(data._data if isinstance(data, registry._Tensor) else data,
                               dtype=_dtype(x, dtype), requires_grad=requires_grad)
