"""``chainrule.linalg``: the norms PyTorch scripts call as ``torch.linalg.norm`` / ``vector_norm``."""
from __future__ import annotations

from .ops.reduce import norm as _norm


def vector_norm(x, ord=2, dim=None, keepdim: bool = False):  # noqa: A002 - PyTorch's name
    """The ``ord``-norm of the entries over ``dim`` (all by default), as a flat vector's."""
    return _norm(x, 2 if ord in (2, 2.0) else ord, dim, keepdim)


def norm(x, ord=None, dim=None, keepdim: bool = False):  # noqa: A002 - PyTorch's name
    """With ``ord=None`` the 2-norm of all entries (Frobenius for a matrix); ``ord`` a number: vector norm.
    Matrix norms other than Frobenius (``ord="nuc"``, 2 on a matrix) are refused, not approximated."""
    if ord is None or ord == "fro":
        return _norm(x, 2, dim, keepdim)
    if isinstance(ord, str) or (dim is None and x.dim() == 2) or (isinstance(dim, tuple) and len(dim) == 2):
        raise ValueError(f"linalg.norm: matrix norm ord={ord!r} is not supported; use ord=None (Frobenius) "
                         "or a vector norm with dim=")
    return vector_norm(x, ord, dim, keepdim)
