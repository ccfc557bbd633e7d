"""Memory order, decided here once: ``nn.Linear``, the matrix ops, the optimizers and ``io`` ask this module.

Values never depend on memory order; speed does.  OpenBLAS on this machine runs
``x @ Wᵀ`` as its plain NN product when the (out, in) weight is stored
column-major (10-20% faster than the NT product a row-major weight gives), and
writes large products 2-5% faster into a column-major result (measured on the
benchmark's shapes).  Everything else follows from those two facts: a weight's
gradient, optimizer state and packed views take the weight's order so that
updates pair elements one to one; files are always written row-major.
"""
from __future__ import annotations

from .backend import xp

COLUMN_MAJOR_FROM = 1 << 18  # result elements from which a 2-D product is written column-major


def weight(arr):
    """The storage of a Linear layer's (out, in) weight: column-major."""
    return xp.asfortranarray(arr)


def column_major(arr) -> bool:
    """Stored column-major (and not also row-major, as a vector or a single row is)."""
    return arr.flags.f_contiguous and not arr.flags.c_contiguous


def product(a, b):
    """``a @ b`` for 2-D arrays, written column-major when the result is large."""
    m, n = a.shape[0], b.shape[1]
    if m * n >= COLUMN_MAJOR_FROM and a.dtype == b.dtype:
        return xp.matmul(a, b, out=xp.empty((n, m), dtype=a.dtype).T)
    return a @ b


def weight_grad(x2, g2, w):
    """``g2ᵀ x2``, the gradient of ``w`` in ``w``'s own memory order (so optimizers pair them directly)."""
    if column_major(w):
        return (x2.T @ g2).T
    return g2.T @ x2


def same_order(x, y) -> bool:
    """One shape, and elements in the same memory order, so that flat index i is the same element."""
    if x.shape != y.shape:
        return False
    if y.flags.c_contiguous and x.flags.c_contiguous:
        return True
    return y.flags.f_contiguous and x.flags.f_contiguous


def empty_like(arr):
    """An uninitialised array of ``arr``'s shape, dtype and memory order."""
    return xp.empty_like(arr)


def view_like(flat_part, arr):
    """``flat_part`` (1-D) shaped as ``arr``, in ``arr``'s memory order."""
    if arr.flags.c_contiguous or arr.ndim < 2:
        return flat_part.reshape(arr.shape)
    return flat_part.reshape(arr.shape[::-1]).T


def for_file(arr):
    """Row-major, as files store tensors (``ascontiguousarray`` would turn a 0-d array into 1-d)."""
    return arr if arr.flags.c_contiguous else arr.copy(order="C")
