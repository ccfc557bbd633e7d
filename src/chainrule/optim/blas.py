"""y ← y + a·x in one pass, through the BLAS that NumPy already carries.

NumPy has no fused multiply-add.  ``y -= a * x`` is two passes over memory: one
for the temporary, one for the subtraction.  The optimizers' last step,
θ ← θ − η·b, and Adam's running averages are exactly BLAS's axpy.  Doing them
as axpy saves one pass over the parameters per update.

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

from ..backend import xp

_AXPY: dict | None = None  # dtype -> the C function; filled on first use


def _load() -> dict:
    global _AXPY
    found: dict = {}
    libdir = os.path.join(os.path.dirname(os.path.dirname(xp.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libdir, "libscipy_openblas64_*.so"))):
        try:
            lib = ctypes.CDLL(path)
            for dtype, name, scalar in ((xp.float32, "scipy_cblas_saxpy64_", ctypes.c_float),
                                        (xp.float64, "scipy_cblas_daxpy64_", ctypes.c_double)):
                f = getattr(lib, name)
                f.restype = None
                f.argtypes = [ctypes.c_int64, scalar, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64]
                found[xp.dtype(dtype)] = f
        except (OSError, AttributeError):
            found = {}
            continue
        break
    _AXPY = found
    return found


def _same_layout(x, y) -> bool:
    """One shape, and elements in the same memory order, so that flat index i is the same element."""
    if x.shape != y.shape:
        return False
    if y.flags.c_contiguous and x.flags.c_contiguous:
        return True
    return y.flags.f_contiguous and x.flags.f_contiguous


def axpy(a: float, x, y, scratch=None) -> None:
    """y += a·x in place.  ``scratch`` (y's shape and dtype) serves the NumPy fallback."""
    funcs = _AXPY if _AXPY is not None else _load()
    f = funcs.get(y.dtype)
    if f is not None and x.dtype == y.dtype and y.flags.writeable and _same_layout(x, y):
        f(y.size, a, x.ctypes.data, 1, y.ctypes.data, 1)
        return
    y += xp.multiply(x, a, out=scratch) if scratch is not None else x * a


def available() -> bool:
    """Whether axpy runs in BLAS here (for the tests and the benchmark report)."""
    return bool(_AXPY if _AXPY is not None else _load())
