"""``cr.cuda``: answers PyTorch's CUDA questions truthfully for an installation without a GPU backend.

Seeding and synchronising are accepted and do nothing (as in PyTorch on a
machine without CUDA); anything that needs a GPU raises a clear error.
"""
from __future__ import annotations

from .devices import check
from .devices import is_available as _has


def is_available() -> bool:
    """True only when a GPU backend is installed and usable (backend.py knows)."""
    return _has("cuda")


def device_count() -> int:
    return 0 if not is_available() else 1


def is_initialized() -> bool:
    return False


def current_device() -> int:
    check("cuda", "cuda.current_device")
    return 0


def get_device_name(device=None) -> str:
    check("cuda", "cuda.get_device_name")
    return "cuda"


def manual_seed(seed: int) -> None:
    """Accepted and ignored without a GPU, as in PyTorch (the CPU stream is ``cr.manual_seed``)."""


manual_seed_all = manual_seed


def synchronize(device=None) -> None:
    """Nothing runs asynchronously on the CPU."""


def empty_cache() -> None:
    """There is no GPU memory cache to empty."""
