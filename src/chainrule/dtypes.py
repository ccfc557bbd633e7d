"""chainrule's dtypes: ``cr.float32`` prints as ``chainrule.float32`` and is the NumPy dtype to NumPy.

Each one wraps a NumPy dtype (its ``.dtype`` attribute, which is how NumPy reads
any object as a dtype), compares and hashes equal to it, and answers PyTorch's
questions (``is_floating_point``, ``itemsize``). ``Tensor.dtype`` returns these,
so ``print(x.dtype)`` reads as in PyTorch while ``x.dtype == np.float32`` holds.
"""
from __future__ import annotations

from typing import Any

from .backend import xp


class dtype:  # noqa: N801 - PyTorch's name (torch.dtype)
    """A tensor's element type."""

    __slots__ = ("dtype", "_name")

    def __init__(self, numpy_dtype: Any, name: str | None = None) -> None:
        object.__setattr__(self, "dtype", xp.dtype(numpy_dtype))
        object.__setattr__(self, "_name", name or self.dtype.name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a dtype is immutable")

    def __repr__(self) -> str:
        return f"chainrule.{self._name}"

    __str__ = __repr__

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, dtype):
            return self.dtype == other.dtype
        if other is None:  # (NumPy reads None as float64)
            return False
        try:
            return self.dtype == xp.dtype(other)
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.dtype)  # the NumPy dtype's, so either finds the other in a dict

    def __reduce__(self):
        return (of, (self.dtype.str,))

    @property
    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.dtype.kind == "c"

    @property
    def is_signed(self) -> bool:
        return self.dtype.kind in "fic"

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def tensor_type(self) -> str:
        """PyTorch's legacy type name (``FloatTensor``), as ``Tensor.type()`` and ``print(ParameterDict)`` show."""
        return _TENSOR_TYPES.get(self.dtype.name, self.dtype.name)

    def __getattr__(self, name: str) -> Any:
        """Everything else a NumPy dtype has (``kind``, ``name``, ``char``...), for code that asks it."""
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(object.__getattribute__(self, "dtype"), name)


float32 = dtype("float32")
float64 = dtype("float64")
float16 = dtype("float16")
int64 = dtype("int64")
int32 = dtype("int32")
int16 = dtype("int16")
int8 = dtype("int8")
uint8 = dtype("uint8")
bool = dtype("bool")  # noqa: A001 - PyTorch's name

# PyTorch's aliases
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16

_TENSOR_TYPES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
                 "uint8": "ByteTensor", "bool": "BoolTensor"}
_BY_NUMPY = {d.dtype: d for d in (float32, float64, float16, int64, int32, int16, int8, uint8, bool)}


def of(numpy_dtype: Any) -> dtype:
    """The chainrule dtype for a NumPy dtype (one object per dtype, made on first use for the rarer ones)."""
    key = xp.dtype(numpy_dtype)
    found = _BY_NUMPY.get(key)
    if found is None:
        found = _BY_NUMPY[key] = dtype(key)
    return found


def finfo(d: Any = None):
    """Machine limits of a float dtype (``eps``, ``max``, ``tiny``...), as ``torch.finfo``; float32 by default."""
    d = float32 if d is None else d
    if xp.dtype(d).kind != "f":
        raise TypeError(f"finfo: {d} is not a floating-point dtype (iinfo is for integers)")
    return xp.finfo(xp.dtype(d))


def iinfo(d: Any):
    """Limits of an integer dtype (``min``, ``max``, ``bits``), as ``torch.iinfo``."""
    if xp.dtype(d).kind not in "iu":
        raise TypeError(f"iinfo: {d} is not an integer dtype (finfo is for floats)")
    return xp.iinfo(xp.dtype(d))


__all__ = ["bool", "double", "dtype", "finfo", "float", "float16", "float32", "float64", "half", "iinfo", "int", "int8",
           "int16",
           "int32", "int64", "long", "short", "uint8"]
