"""Devices, PyTorch style, telling the truth: ``cr.device("cpu")`` works, a GPU is refused until a backend exists.

``cr.device("cuda")`` can be created (as in PyTorch, where it is only a name),
but putting anything on it raises an error that says what to write instead.
Whether a device can hold tensors is asked of ``backend.py``, the one place
that knows which array libraries are installed.
"""
from __future__ import annotations

from typing import Any

from .errors import ChainruleError

KNOWN = ("cpu", "cuda", "mps", "xpu", "meta", "hpu", "mtia", "xla")


class device:  # noqa: N801 - PyTorch's name
    """A device name with an optional index: ``device("cpu")``, ``device("cuda", 0)``, ``device("cuda:1")``."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            raise ValueError(f"device({type}): a bare index means a CUDA device, and chainrule runs on the CPU; "
                             "use device('cpu')")
        elif not isinstance(type, str):
            raise TypeError(f"device(): expected a string such as 'cpu', got {type!r}")
        else:
            name, _, idx = type.partition(":")
            if idx:
                if index is not None or not idx.isdigit():
                    raise ValueError(f"device({type!r}): invalid device string")
                index = int(idx)
            type = name
        if type not in KNOWN:
            raise ValueError(f"device({type!r}): unknown device type; expected one of {', '.join(KNOWN)}")
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("device is immutable")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{idx})"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (ValueError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")


class DeviceError(ChainruleError, RuntimeError, ValueError):
    """A device that this installation cannot put tensors on."""


def is_available(kind: str) -> bool:
    """Can tensors live on devices of type ``kind`` in this installation? (asks backend.py)"""
    from . import backend

    try:
        backend.get_array_module(kind)
    except ValueError:
        return False
    return True


def check(dev: Any, where: str = "") -> device:
    """``dev`` as a device that can hold tensors here, or an error saying what to write instead."""
    d = device(dev) if not isinstance(dev, device) else dev
    if d.type == "cpu" or is_available(d.type):
        return d
    at = f"{where}: " if where else ""
    raise DeviceError(
        f"{at}device {str(d)!r} is not available: this chainrule installation runs on the CPU only "
        f"(chainrule.cuda.is_available() is False). Use device='cpu', or pick it at run time: "
        f"device = 'cuda' if torch.cuda.is_available() else 'cpu'"
    )


_default = [CPU]


def set_default_device(dev: Any) -> None:
    """Where new tensors go by default; only devices that exist here are accepted (``None`` means the CPU)."""
    _default[0] = CPU if dev is None else check(dev, "set_default_device")


def get_default_device() -> device:
    return _default[0]


def parse_to(args: tuple, kwargs: dict, where: str = "to") -> tuple[device | None, Any]:
    """The (device, dtype) meant by PyTorch's ``.to(...)`` argument forms, the device checked.

    Accepted as in PyTorch: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``,
    ``to(other_tensor)``, and the keywords ``device=``, ``dtype=``,
    ``non_blocking=``, ``copy=``, ``memory_format=`` (the last three change nothing on the CPU).
    Tensor.to and Module.to both call this (one place for the argument rules).
    """
    kwargs = dict(kwargs)
    for ignored in ("non_blocking", "copy", "memory_format"):
        kwargs.pop(ignored, None)
    dev, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"{where}() got unexpected keyword argument(s) {', '.join(map(repr, kwargs))}")
    rest = list(args)
    if rest and isinstance(rest[-1], bool):  # to(dtype, non_blocking) / to(device, dtype, non_blocking)
        rest.pop()
    if len(rest) > 2:
        raise TypeError(f"{where}(): too many positional arguments {args!r}")
    for a in rest:
        if isinstance(a, (str, device)):
            if dev is not None:
                raise TypeError(f"{where}(): the device is given twice")
            dev = a
        elif hasattr(a, "dtype") and hasattr(a, "device") and not isinstance(a, type):  # to(other_tensor)
            dev, dtype = a.device, a.dtype
        else:
            if dtype is not None:
                raise TypeError(f"{where}(): the dtype is given twice")
            dtype = a
    return (None if dev is None else check(dev, where)), dtype
