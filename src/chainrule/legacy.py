"""PyTorch's legacy typed constructors (``torch.FloatTensor([1, 2])``, ``torch.LongTensor(3)``), still in
tutorials: data gives a tensor of that dtype; integer sizes give zeros of that shape."""
from __future__ import annotations

import operator

from .backend import xp
from .tensor import Tensor


def _typed(name: str, dtype: str):
    def make(*args) -> Tensor:
        if not args:
            return Tensor.of(xp.zeros((0,), dtype=dtype))
        if len(args) == 1 and not isinstance(args[0], int):
            data = args[0]
            if isinstance(data, Tensor):
                data = data.numpy()
            return Tensor.of(xp.asarray(data, dtype=dtype))
        try:
            shape = tuple(operator.index(a) for a in args)
        except TypeError:
            raise TypeError(f"{name}(*sizes) takes integer sizes, or one sequence of data") from None
        return Tensor.of(xp.zeros(shape, dtype=dtype))

    make.__name__ = make.__qualname__ = name
    make.__doc__ = f"A {dtype} tensor from data, or zeros of the given sizes (PyTorch's legacy {name})."
    return make


FloatTensor = _typed("FloatTensor", "float32")
DoubleTensor = _typed("DoubleTensor", "float64")
LongTensor = _typed("LongTensor", "int64")
IntTensor = _typed("IntTensor", "int32")
BoolTensor = _typed("BoolTensor", "bool")
ByteTensor = _typed("ByteTensor", "uint8")
