"""PyTorch's older spellings that tutorials still use: ``torch.FloatTensor(...)``, ``autograd.Variable``.

``cr.FloatTensor([1, 2])`` makes a float32 tensor of that data and
``cr.FloatTensor(2, 3)`` one of that shape; ``isinstance(x, cr.FloatTensor)``
asks the dtype, as in PyTorch.
"""
from __future__ import annotations

from typing import Any

from . import dtypes
from .tensor import Tensor, _all_sizes, _sizes


class _TypedTensorMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args: Any) -> Tensor:
        from .backend import xp

        if not args or _all_sizes(args):
            return Tensor._make(xp.zeros(_sizes(args), cls.dtype.dtype), None)
        if len(args) > 1:
            raise TypeError(f"{cls.__name__}(): one data argument or integer sizes, got {args!r}")
        return Tensor.of(args[0], dtype=cls.dtype)

    def __repr__(cls) -> str:
        return f"<class 'chainrule.{cls.__name__}'>"


def _typed(d: dtypes.dtype) -> type:
    return _TypedTensorMeta(d.tensor_type, (), {"dtype": d, "__doc__": f"A {d} tensor (PyTorch's legacy type)."})


FloatTensor = _typed(dtypes.float32)
DoubleTensor = _typed(dtypes.float64)
HalfTensor = _typed(dtypes.float16)
LongTensor = _typed(dtypes.int64)
IntTensor = _typed(dtypes.int32)
ShortTensor = _typed(dtypes.int16)
CharTensor = _typed(dtypes.int8)
ByteTensor = _typed(dtypes.uint8)
BoolTensor = _typed(dtypes.bool)


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802
    """``autograd.Variable(t, requires_grad=True)``: since PyTorch 0.4 the tensor itself, as here."""
    t = data if isinstance(data, Tensor) else Tensor.of(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


__all__ = ["BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor", "IntTensor",
           "LongTensor", "ShortTensor", "Variable", "is_tensor"]
