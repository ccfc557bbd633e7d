"""Process-wide switches PyTorch scripts set at the top: threads, determinism, the default dtype, compile.

Each either does what PyTorch's does or, where chainrule cannot, says so;
none is accepted and then ignored where that would change a result.
"""
from __future__ import annotations

from typing import Any, Callable

from . import dtypes

_deterministic = [False]


def get_num_threads() -> int:
    """Threads the BLAS library uses for matrix products (PyTorch's intra-op threads)."""
    from threadpoolctl import threadpool_info

    from .backend import xp  # noqa: F401 - the BLAS is loaded with NumPy

    counts = [info["num_threads"] for info in threadpool_info() if info.get("user_api") == "blas"]
    return max(counts) if counts else 1


def set_num_threads(n: int) -> None:
    """Cap the BLAS threads at ``n`` for the rest of the process (threadpoolctl does the work)."""
    from threadpoolctl import threadpool_limits

    from .arguments import integer
    from .backend import xp  # noqa: F401 - the BLAS must be loaded to be limited

    threadpool_limits(integer("set_num_threads", "the number of threads", n, minimum=1))


def set_num_interop_threads(n: int) -> None:
    """chainrule runs ops one after another, so there is no inter-op pool to size; any n >= 1 is true."""
    from .arguments import integer

    integer("set_num_interop_threads", "the number of threads", n, minimum=1)


def get_num_interop_threads() -> int:
    return 1


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Every chainrule op is deterministic already; the flag is kept so that scripts can read it back."""
    _deterministic[0] = bool(mode)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic[0]


def get_default_dtype() -> dtypes.dtype:
    return dtypes.float32


def set_default_dtype(d: Any) -> None:
    """float32 is chainrule's default for good (its float32 discipline); asking for another says what to write."""
    if d != dtypes.float32:
        raise TypeError(f"set_default_dtype({d}): chainrule's default float dtype stays float32; pass dtype={d} "
                        f"to the tensors that need it (cr.tensor(..., dtype={d})), or convert with .double()")


def compile(model: Callable | None = None, **options: Any) -> Callable:  # noqa: A001 - PyTorch's name
    """``torch.compile`` changes speed, never results; chainrule runs the model as it is (``model`` returned)."""
    if model is None:  # used as @cr.compile(mode=...)
        return lambda fn: fn
    return model
