"""Random tensors shaped like another (``rand_like``, ``randn_like``, ``randint_like``), as PyTorch's ``*_like``:
the shape and dtype come from the tensor, the numbers from the global stream (PyTorch's have no ``generator=``)."""
from __future__ import annotations

from typing import Any

from . import creation, random
from .backend import xp
from .errors import DTypeError
from .tensor import Tensor


def _dtype(t: Tensor, dtype: Any, op: str):
    dtype = xp.dtype(dtype) if dtype is not None else t.dtype
    if dtype.kind != "f":
        raise DTypeError(f"{op}: random floats can't fill a {dtype} tensor; pass dtype=torch.float "
                         "(or use randint_like for integers)")
    return dtype


def _checked(device: Any, op: str) -> None:
    if device is not None:
        from .devices import check

        check(device, op)


def rand_like(t: Tensor, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Uniform in [0, 1), with ``t``'s shape (and dtype unless ``dtype`` is given)."""
    _checked(device, "rand_like")
    arr = random.generator().random(tuple(t.shape)).astype(_dtype(t, dtype, "rand_like"))
    return creation._finish(arr, requires_grad)


def randn_like(t: Tensor, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Standard normal, with ``t``'s shape (and dtype unless ``dtype`` is given)."""
    _checked(device, "randn_like")
    arr = random.generator().standard_normal(tuple(t.shape)).astype(_dtype(t, dtype, "randn_like"))
    return creation._finish(arr, requires_grad)


def randint_like(t: Tensor, low: int, high: int | None = None, dtype=None, device=None) -> Tensor:
    """Integers in [low, high) (or [0, low)), with ``t``'s shape and dtype."""
    _checked(device, "randint_like")
    if high is None:
        low, high = 0, low
    arr = random.generator().integers(low, high, size=tuple(t.shape))
    return creation._finish(arr.astype(xp.dtype(dtype) if dtype is not None else t.dtype), False)


def empty_like(t: Tensor, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Zeros with ``t``'s shape and dtype (PyTorch leaves them unset; zeros are one valid choice)."""
    _checked(device, "empty_like")
    return creation._finish(xp.zeros(tuple(t.shape), dtype=xp.dtype(dtype) if dtype is not None else t.dtype),
                            requires_grad)


def compile(model: Any = None, **options: Any) -> Any:  # noqa: A001 - PyTorch's name
    """``torch.compile``: chainrule runs eagerly, so the model (or function) comes back unchanged and
    computes the same numbers; usable as ``@torch.compile`` and ``@torch.compile(mode=...)`` too."""
    if model is None:
        return lambda fn: fn
    return model
