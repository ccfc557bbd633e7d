"""``cr.accelerator``: PyTorch's device-neutral accelerator questions; there is none without a GPU backend."""
from __future__ import annotations

from . import cuda


def is_available() -> bool:
    return cuda.is_available()


def current_accelerator(check_available: bool = False):
    from .devices import device

    return device("cuda") if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count()


def synchronize(device=None) -> None:
    """Nothing runs asynchronously on the CPU."""
