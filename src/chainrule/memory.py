"""Refuse work that cannot fit in memory before allocating it, saying how much it needs."""
from __future__ import annotations

import os

from .errors import ChainruleError


class NotEnoughMemory(ChainruleError, MemoryError):
    """What was asked for needs more memory than the machine has; the message says how much."""


def available() -> int | None:
    """Bytes the OS says it can still give (MemAvailable on Linux), or the physical total; None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def human(n: float) -> str:
    """Bytes as B/KiB/MiB/GiB/TiB."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def require(nbytes: int, what: str) -> None:
    """Raise NotEnoughMemory when ``nbytes`` is more than is available now."""
    free = available()
    if free is not None and nbytes > free:
        raise NotEnoughMemory(f"{what} needs about {human(nbytes)} of memory, but only {human(free)} is available")
