"""Functions that make tensors: from data, filled, ranges, random."""
from __future__ import annotations

import operator
from typing import Any

from . import devices, random
from .backend import xp
from .dtypes import float32, int64
from .errors import DTypeError, ShapeError
from .tensor import Tensor


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


_NO_EFFECT = {"layout": ("strided", "torch.strided", "chainrule.strided"), "pin_memory": (False,),
              "memory_format": ("preserve_format", "contiguous_format", "torch.preserve_format",
                                "torch.contiguous_format")}


def _where(op: str, device=None, **options) -> None:
    """PyTorch's placement keywords: accepted where they change nothing on the CPU, refused otherwise."""
    if device is not None:
        devices.check(device, op)
    for name, value in options.items():
        if name == "out":
            if value is not None:
                raise TypeError(f"{op}(out=...) is not supported: assign the result instead (x = cr.{op}(...))")
        elif name not in _NO_EFFECT:
            raise TypeError(f"{op}() got an unexpected keyword argument {name!r}")
        elif value is not None and value not in _NO_EFFECT[name] and str(value) not in _NO_EFFECT[name]:
            raise ValueError(f"{op}: {name}={value!r} is not available in chainrule (a CPU-only, dense library)")


def _finish(arr, requires_grad: bool) -> Tensor:
    if arr.dtype.kind not in "fiub":
        raise DTypeError(f"tensor: cannot hold values of dtype {arr.dtype} (only numbers and bools)")
    t = Tensor._make(arr, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data: Any, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats become float32)."""
    _where("tensor", device, **where)
    return Tensor.of(data, dtype=dtype, requires_grad=requires_grad)


def from_numpy(array) -> Tensor:
    """Wrap a NumPy array without copying; they share memory."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return _finish(array, False)


def as_tensor(data: Any, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but without a copy where none is needed (a Tensor or ndarray of that dtype)."""
    _where("as_tensor", device)
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    if isinstance(data, xp.ndarray) and (dtype is None or data.dtype == dtype) and data.dtype.kind in "fiub":
        return Tensor._make(data, None)
    return Tensor.of(data, dtype=dtype)


def zeros(*shape, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    _where("zeros", device, **where)
    return _finish(xp.zeros(_shape(shape), dtype=dtype or float32), requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    _where("ones", device, **where)
    return _finish(xp.ones(_shape(shape), dtype=dtype or float32), requires_grad)


def empty(*shape, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    _where("empty", device, **where)
    return _finish(xp.empty(_shape(shape), dtype=dtype or float32), requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    _where("full", device, **where)
    if dtype is None:
        dtype = float32 if isinstance(fill_value, float) else xp.asarray(fill_value).dtype
    return _finish(xp.full(_shape((shape,) if isinstance(shape, int) else (tuple(shape),)), fill_value, dtype=dtype),
                   requires_grad)


def zeros_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    _where("zeros_like", device, **where)
    return _finish(xp.zeros_like(_arr(t), dtype=dtype), requires_grad)


def ones_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    _where("ones_like", device, **where)
    return _finish(xp.ones_like(_arr(t), dtype=dtype), requires_grad)


def empty_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    _where("empty_like", device, **where)
    return _finish(xp.empty_like(_arr(t), dtype=dtype), requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    _where("full_like", device, **where)
    return _finish(xp.full_like(_arr(t), fill_value, dtype=dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    """Integers give int64, any float argument gives float32 (PyTorch's rule)."""
    _where("arange", device, **where)
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        dtype = float32 if any(isinstance(v, float) for v in (start, end, step)) else int64
    return _finish(xp.arange(start, end, step, dtype=dtype), requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    _where("linspace", device, **where)
    return _finish(xp.linspace(start, end, steps, dtype=dtype or float32), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    _where("eye", device, **where)
    n, m = _shape((n, n if m is None else m))
    return _finish(xp.eye(n, m, dtype=dtype or float32), requires_grad)


# ------------------------------------------------------------------ random
# Every draw goes through random.generator(generator): the global stream, or the caller's Generator.

def _normal(shape, dtype, generator):
    return random.generator(generator).standard_normal(shape, dtype=xp.float64).astype(dtype or float32)


def _uniform(shape, dtype, generator):
    return random.generator(generator).random(shape).astype(dtype or float32)


def _integers(op: str, low, high, shape, dtype, generator):
    if high is None:
        low, high = 0, low
    if not high > low:
        raise ValueError(f"{op}: high ({high}) must be greater than low ({low})")
    return random.generator(generator).integers(low, high, size=shape, dtype=int64).astype(dtype or int64, copy=False)


def randn(*shape, generator=None, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    _where("randn", device, **where)
    return _finish(_normal(_shape(shape), dtype, generator), requires_grad)


def rand(*shape, generator=None, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    _where("rand", device, **where)
    return _finish(_uniform(_shape(shape), dtype, generator), requires_grad)


def randint(low: int, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad: bool = False, **where) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``, as PyTorch (``size`` is required there)."""
    _where("randint", device, **where)
    if size is None and isinstance(high, (tuple, list)):  # randint(10, (3,))
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: the size is missing; write cr.randint(low, high, (n,))")
    size = _shape((size,) if isinstance(size, int) else (tuple(size),))
    return _finish(_integers("randint", low, high, size, dtype, generator), requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad: bool = False, **where) -> Tensor:
    _where("randperm", device, **where)
    (n,) = _shape((n,))
    return _finish(random.generator(generator).permutation(n).astype(dtype or int64), requires_grad)


def randn_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False, *, generator=None,
               **where) -> Tensor:
    _where("randn_like", device, **where)
    return _finish(_normal(_arr(t).shape, _float_like("randn_like", t, dtype), generator), requires_grad)


def rand_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False, *, generator=None,
              **where) -> Tensor:
    _where("rand_like", device, **where)
    return _finish(_uniform(_arr(t).shape, _float_like("rand_like", t, dtype), generator), requires_grad)


def _float_like(op: str, t, dtype):
    """Random floats shaped like an integer ``t`` need dtype= (PyTorch refuses too): cast to int
    they would silently be zeros."""
    dtype = dtype or _arr(t).dtype
    if xp.dtype(dtype).kind != "f":
        raise DTypeError(f"{op}: random floats can't fill a {xp.dtype(dtype)} tensor; pass dtype=torch.float")
    return dtype


def randint_like(t: Tensor, low: int = 0, high=None, *, generator=None, dtype=None, device=None,
                 requires_grad: bool = False, **where) -> Tensor:
    _where("randint_like", device, **where)
    arr = _arr(t)
    return _finish(_integers("randint_like", low, high, arr.shape, dtype or arr.dtype, generator), requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False, **where) -> Tensor:
    """Normal samples with PyTorch's forms: ``normal(mean_tensor, std)``, ``normal(mean, std_tensor)``,
    ``normal(mean, std, size)`` (floats)."""
    _where("normal", device, **where)
    m, s = (_arr(v) if isinstance(v, Tensor) else v for v in (mean, std))
    if size is not None:
        if isinstance(m, xp.ndarray) or isinstance(s, xp.ndarray):
            raise TypeError("normal: size= goes with float mean and std; with tensors the shape is theirs")
        shape = _shape((size,) if isinstance(size, int) else (tuple(size),))
    elif isinstance(m, xp.ndarray) or isinstance(s, xp.ndarray):
        shape = xp.broadcast_shapes(xp.shape(m), xp.shape(s))
        dtype = dtype or next(a.dtype for a in (m, s) if isinstance(a, xp.ndarray))
    else:
        raise TypeError("normal(mean, std) with float arguments needs a size: cr.normal(0.0, 1.0, size=(n,))")
    if xp.any(xp.asarray(s) < 0):
        raise ValueError(f"normal: std must be non-negative, got {std}")
    return _finish((m + s * _normal(shape, xp.float64, generator)).astype(dtype or float32), requires_grad)


def _arr(t):
    return t._data if isinstance(t, Tensor) else xp.asarray(t)
