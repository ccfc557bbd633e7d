"""``cr.linalg``: PyTorch's norms, built from chainrule's differentiable reductions.

Matrix norms that need a singular value decomposition (``ord`` 2, -2, "nuc")
are refused by name rather than answered with another norm.
"""
from __future__ import annotations

import math
from typing import Any

from . import ops
from .creation import as_tensor
from .errors import ShapeError


def vector_norm(x: Any, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A002
    """The ``ord``-norm of the values over ``dim`` (all of them by default), as ``torch.linalg.vector_norm``."""
    x = as_tensor(x)
    if dtype is not None:
        x = x.to(dtype)
    if ord == 0:
        return ops.sum((x != 0).to(x.dtype if x.dtype.is_floating_point else "float32"), dim, keepdim)
    return ops.norm(x, 2 if ord == 2 else ord, dim, keepdim)


def matrix_norm(a: Any, ord: Any = "fro", dim: tuple = (-2, -1), keepdim: bool = False, *, dtype=None):  # noqa: A002
    """Frobenius, 1 (largest column sum) and inf (largest row sum) norms of the matrices over ``dim``."""
    a = as_tensor(a)
    if dtype is not None:
        a = a.to(dtype)
    if a.ndim < 2:
        raise ShapeError(f"linalg.matrix_norm: needs at least 2 dimensions, got shape {tuple(a.shape)}")
    rows, cols = (d % a.ndim for d in dim)
    if ord == "fro":
        return ops.norm(a, 2, (rows, cols), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        summed, reduced = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = ops.sum(ops.abs(a), summed, True)
        pick = ops.amax if ord > 0 else ops.amin
        out = pick(sums, reduced, True)
        return out if keepdim else out.squeeze(max(rows, cols)).squeeze(min(rows, cols))
    raise ValueError(f"linalg.matrix_norm: ord={ord!r} needs singular values, which chainrule does not compute; "
                     f"available: 'fro', 1, -1, inf, -inf")


def norm(a: Any, ord: Any = None, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A002
    """``torch.linalg.norm``: a vector norm for 1-D input or an int ``dim``, a matrix norm for 2-D ``dim``."""
    a = as_tensor(a)
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        return vector_norm(a, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if a.ndim not in (1, 2):
            raise ShapeError(f"linalg.norm: with ord={ord!r} and no dim the input must be 1-D or 2-D, "
                             f"got shape {tuple(a.shape)}")
        dim = tuple(range(a.ndim))
    if len(dim) == 1:
        return vector_norm(a, ord, dim, keepdim, dtype=dtype)
    return matrix_norm(a, ord, tuple(dim), keepdim, dtype=dtype)


__all__ = ["matrix_norm", "norm", "vector_norm"]
