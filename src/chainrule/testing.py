"""``cr.testing.assert_close``: PyTorch's comparison with its default tolerances per dtype."""
from __future__ import annotations

from typing import Any

from .backend import xp

# PyTorch's defaults (rtol, atol) by dtype; integers and bools must match exactly
_TOLERANCES = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def _array(value: Any):
    from .tensor import Tensor

    return value.numpy() if isinstance(value, Tensor) else xp.asarray(value)


def assert_close(actual: Any, expected: Any, *, rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False, check_dtype: bool = True, msg: str | None = None) -> None:
    """Raise AssertionError unless ``|actual - expected| <= atol + rtol * |expected|`` everywhere."""
    if (rtol is None) != (atol is None):
        raise ValueError("assert_close: give both rtol and atol, or neither (as PyTorch)")
    a, e = _array(actual), _array(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values are not close: shapes {a.shape} and {e.shape} differ")
    if check_dtype and a.dtype != e.dtype:
        raise AssertionError(msg or f"The values are not close: dtypes {a.dtype} and {e.dtype} differ")
    if rtol is None:
        rtol, atol = _TOLERANCES.get(xp.result_type(a, e).name, (0.0, 0.0))
    close = xp.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        diff = xp.abs(a.astype(xp.float64) - e.astype(xp.float64))
        worst = int(xp.argmax(xp.where(close, -1, xp.nan_to_num(diff, nan=xp.inf))))
        where = tuple(int(i) for i in xp.unravel_index(worst, a.shape))
        raise AssertionError(msg or (
            f"Tensor-likes are not close!\n\nMismatched elements: {int((~close).sum())} / {close.size}\n"
            f"Greatest absolute difference: {diff.flat[worst]} at index {where} "
            f"(up to {atol} allowed)\nrtol={rtol}, atol={atol}"))


__all__ = ["assert_close"]
