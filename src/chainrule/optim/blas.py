"""y ← a·x + y and y ← a·x + b·y in one pass each, through the BLAS that NumPy already carries.

NumPy has no fused multiply-add.  ``y -= a * x`` is two passes over memory: one
for the temporary, one for the subtraction.  The optimizers' steps are exactly
BLAS's axpy (θ ← θ − η·b) and OpenBLAS's axpby (the running averages
b ← μ·b + g, m ← β·m + (1 − β)·g).  Done that way, SGD with momentum makes two
passes over the parameters instead of four.

NumPy's wheels bundle OpenBLAS with a 64-bit-integer interface, whose names
carry the prefix ``scipy_`` and the suffix ``64_``.  Calling it directly shares
NumPy's own thread pool; a second BLAS, such as SciPy's, would bring a second
pool to compete with it.  Where that library or those names are not found (a
NumPy built against another BLAS), the NumPy two-pass form is used.
"""
from __future__ import annotations

import ctypes
import glob
import os

from .. import layout
from ..backend import xp

_FUNCS: dict | None = None  # (name, dtype) -> the C function; filled on first use
# A call through ctypes costs ~3.5 µs; NumPy's two in-place passes cost less than that below
# ~32k elements (measured: at 4k elements 2.0 µs against 3.7, at 64k 12.2 µs against 8.6).
MIN_SIZE = 1 << 15
_INT, _PTR = ctypes.c_int64, ctypes.c_void_p


def _load() -> dict:
    global _FUNCS
    found: dict = {}
    libdir = os.path.join(os.path.dirname(os.path.dirname(xp.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libdir, "libscipy_openblas64_*.so"))):
        try:
            lib = ctypes.CDLL(path)
            for dtype, p, scalar in ((xp.float32, "s", ctypes.c_float), (xp.float64, "d", ctypes.c_double)):
                axpy_f = getattr(lib, f"scipy_cblas_{p}axpy64_")
                axpy_f.argtypes = [_INT, scalar, _PTR, _INT, _PTR, _INT]
                axpby_f = getattr(lib, f"scipy_cblas_{p}axpby64_")
                axpby_f.argtypes = [_INT, scalar, _PTR, _INT, scalar, _PTR, _INT]
                for name, f in (("axpy", axpy_f), ("axpby", axpby_f)):
                    f.restype = None
                    found[name, xp.dtype(dtype)] = f
        except (OSError, AttributeError):
            found = {}
            continue
        break
    _FUNCS = found
    return found


def _blas(name: str, x, y):
    """The BLAS function for this pair, or None when it cannot take them or they are small."""
    if y.size < MIN_SIZE:
        return None
    funcs = _FUNCS if _FUNCS is not None else _load()
    f = funcs.get((name, y.dtype))
    if f is not None and x.dtype == y.dtype and y.flags.writeable and layout.same_order(x, y):
        return f
    return None


def axpy(a: float, x, y, scratch=None) -> None:
    """y += a·x in place.  ``scratch`` (y's shape and dtype) serves the NumPy fallback."""
    f = _blas("axpy", x, y)
    if f is not None:
        f(y.size, a, x.ctypes.data, 1, y.ctypes.data, 1)
    else:
        y += xp.multiply(x, a, out=scratch) if scratch is not None else x * a


def axpby(a: float, x, b: float, y) -> None:
    """y ← a·x + b·y in place."""
    f = _blas("axpby", x, y)
    if f is not None:
        f(y.size, a, x.ctypes.data, 1, b, y.ctypes.data, 1)
    else:
        y *= b
        y += x if a == 1.0 else x * a


def available() -> bool:
    """Whether axpy and axpby run in BLAS here (for the tests and the benchmark report)."""
    return bool(_FUNCS if _FUNCS is not None else _load())
