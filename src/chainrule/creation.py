"""Functions that make tensors: from data, filled, ranges, random."""
from __future__ import annotations

import operator
from typing import Any

from . import random
from .backend import xp
from .errors import DTypeError, ShapeError
from .tensor import Tensor

float32 = xp.dtype("float32")
float64 = xp.dtype("float64")
float16 = xp.dtype("float16")
int64 = xp.dtype("int64")
int32 = xp.dtype("int32")
uint8 = xp.dtype("uint8")
bool = xp.dtype("bool")  # noqa: A001 - PyTorch's name


def _shape(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        sizes = tuple(operator.index(s) for s in shape)
    except TypeError:
        raise ShapeError(f"shape {shape}: sizes must be integers") from None
    if any(s < 0 for s in sizes):
        raise ShapeError(f"negative dimension in shape {shape}")
    return sizes


def _finish(arr, requires_grad: bool) -> Tensor:
    if arr.dtype.kind not in "fiub":
        raise DTypeError(f"tensor: cannot hold values of dtype {arr.dtype} (only numbers and bools)")
    t = Tensor._make(arr, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data: Any, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats become float32)."""
    return Tensor.of(data, dtype=dtype, requires_grad=requires_grad)


def from_numpy(array) -> Tensor:
    """Wrap a NumPy array without copying; they share memory."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return _finish(array, False)


def as_tensor(data: Any, dtype=None) -> Tensor:
    """Like ``tensor`` but without a copy where none is needed (a Tensor or ndarray of that dtype)."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    if isinstance(data, xp.ndarray) and (dtype is None or data.dtype == dtype) and data.dtype.kind in "fiub":
        return Tensor._make(data, None)
    return Tensor.of(data, dtype=dtype)


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.zeros(_shape(shape), dtype=dtype or float32), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.ones(_shape(shape), dtype=dtype or float32), requires_grad)


def empty(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.empty(_shape(shape), dtype=dtype or float32), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = float32 if isinstance(fill_value, float) else xp.asarray(fill_value).dtype
    return _finish(xp.full(_shape((shape,) if isinstance(shape, int) else (tuple(shape),)), fill_value, dtype=dtype),
                   requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.zeros_like(_arr(t), dtype=dtype), requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.ones_like(_arr(t), dtype=dtype), requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.full_like(_arr(t), fill_value, dtype=dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Integers give int64, any float argument gives float32 (PyTorch's rule)."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        dtype = float32 if any(isinstance(v, float) for v in (start, end, step)) else int64
    return _finish(xp.arange(start, end, step, dtype=dtype), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.linspace(start, end, steps, dtype=dtype or float32), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    n, m = _shape((n, n if m is None else m))
    return _finish(xp.eye(n, m, dtype=dtype or float32), requires_grad)


def randn(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    arr = random.generator().standard_normal(_shape(shape), dtype=xp.float64).astype(dtype or float32)
    return _finish(arr, requires_grad)


def rand(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    arr = random.generator().random(_shape(shape)).astype(dtype or float32)
    return _finish(arr, requires_grad)


def randint(low: int, high: int | None = None, size=(), dtype=None) -> Tensor:
    if high is None:
        low, high = 0, low
    size = _shape((size,) if isinstance(size, int) else (tuple(size),))
    return _finish(random.generator().integers(low, high, size=size, dtype=dtype or int64), False)


def randperm(n: int) -> Tensor:
    return _finish(random.generator().permutation(n).astype(int64), False)


def _arr(t):
    return t._data if isinstance(t, Tensor) else xp.asarray(t)
