"""PyTorch's dtype aliases (``cr.float``, ``cr.long``, ...), the same NumPy dtypes as ``cr.float32`` etc."""
from __future__ import annotations

from .backend import xp
from .creation import bool, float16, float32, float64, int32, int64, uint8  # noqa: A004 - PyTorch's names

int8 = xp.dtype("int8")
int16 = xp.dtype("int16")
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16



def finfo(dtype=None):
    """Limits of a float dtype (``.eps``, ``.max``, ``.min``, ``.tiny``, ``.bits``), float32 by default."""
    return xp.finfo(float32 if dtype is None else dtype)


def iinfo(dtype):
    """Limits of an integer dtype (``.max``, ``.min``, ``.bits``)."""
    return xp.iinfo(dtype)


def get_default_dtype():
    """float32: what Python floats and ``randn``/``zeros`` give (fixed in chainrule)."""
    return float32


def set_default_dtype(dtype) -> None:
    """Only float32 is accepted: chainrule keeps float32 as the default and refuses silent float64."""
    if xp.dtype(dtype) != float32:
        from .errors import DTypeError

        raise DTypeError(f"set_default_dtype({xp.dtype(dtype)}): chainrule's default dtype stays float32; "
                         "create float64 tensors explicitly (dtype=torch.float64 or .double())")


__all__ = ["finfo", "iinfo", "get_default_dtype", "set_default_dtype",
           "bool", "double", "float", "float16", "float32", "float64", "half", "int", "int8", "int16", "int32",
           "int64", "long", "short", "uint8"]
