"""PyTorch's named products over matmul and elementwise ops: mm, mv, dot, inner, addmv, addr,
addcmul, addcdiv, trace, cross, kron, cdist.  Each checks its shapes (PyTorch's stricter rules:
mm wants matrices, dot vectors of one length) and is a composition, so differentiable twice."""
from __future__ import annotations

from ..backend import xp
from ..errors import ShapeError
from . import registry
from .axes import one
from .index import getitem
from .linalg import matmul
from .reduce import norm, sum
from .registry import as_tensor, public
from .shape import cat, permute, reshape, unsqueeze


def _shapes(*ts) -> str:
    return " and ".join(str(t._data.shape) for t in ts)


def _ndims(op: str, want: tuple, *ts) -> tuple:
    ts = tuple(as_tensor(t) for t in ts)
    if tuple(t._data.ndim for t in ts) != want:
        names = {1: "a vector (1-D)", 2: "a matrix (2-D)"}
        raise ShapeError(f"{op}: expects {' and '.join(names[n] for n in want)}, got shapes {_shapes(*ts)}")
    return ts


@public
def mm(a, b):
    """The product of two matrices (no broadcasting, as PyTorch's mm)."""
    a, b = _ndims("mm", (2, 2), a, b)
    return matmul(a, b)


@public
def mv(a, v):
    """Matrix times vector."""
    a, v = _ndims("mv", (2, 1), a, v)
    return matmul(a, v)


@public
def dot(a, b):
    """The inner product of two vectors of the same length."""
    a, b = _ndims("dot", (1, 1), a, b)
    if a._data.shape != b._data.shape:
        raise ShapeError(f"dot: the vectors have different lengths {_shapes(a, b)}")
    return matmul(a, b)


vdot = public(dot, name="vdot")  # the same for real tensors


@public
def inner(a, b):
    """Σ over the last axis of a[..., k]·b[..., k]: shape a.shape[:-1] + b.shape[:-1] (a number: the product)."""
    a, b = as_tensor(a), as_tensor(b)
    if a._data.ndim == 0 or b._data.ndim == 0:
        return a * b
    k = a._data.shape[-1]
    if b._data.shape[-1] != k:
        raise ShapeError(f"inner: the last dimensions differ, shapes {_shapes(a, b)}")
    rows = matmul(reshape(a, (-1, k)), permute(reshape(b, (-1, k)), (1, 0)))
    return reshape(rows, a._data.shape[:-1] + b._data.shape[:-1])


def _scaled_sum(input, prod, beta, alpha):
    """beta·input + alpha·prod; beta == 0 ignores input (NaN in it too), as PyTorch."""
    prod = prod if alpha == 1 else prod * alpha
    if beta == 0:
        return prod
    return prod + (input if beta == 1 else input * beta)


@public
def addmv(input, mat, vec, *, beta: float = 1.0, alpha: float = 1.0):
    """beta·input + alpha·(mat @ vec)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


@public
def addr(input, vec1, vec2, *, beta: float = 1.0, alpha: float = 1.0):
    """beta·input + alpha·outer(vec1, vec2)."""
    a, b = _ndims("addr", (1, 1), vec1, vec2)
    return _scaled_sum(input, reshape(a, (-1, 1)) * reshape(b, (1, -1)), beta, alpha)


@public
def addcmul(input, tensor1, tensor2, *, value: float = 1.0):
    """input + value·tensor1·tensor2 (broadcasting)."""
    prod = as_tensor(tensor1) * tensor2
    return input + (prod if value == 1 else prod * value)


@public
def addcdiv(input, tensor1, tensor2, *, value: float = 1.0):
    """input + value·tensor1/tensor2 (broadcasting), as Adam-style updates write it."""
    t1, t2 = as_tensor(tensor1), as_tensor(tensor2)
    if t1._data.dtype.kind in "biu" and t2._data.dtype.kind in "biu":
        raise TypeError("addcdiv: integer division with addcdiv is no longer supported (PyTorch); "
                        "convert tensor1 or tensor2 to float first")
    q = t1 / t2
    return input + (q if value == 1 else q * value)


@public
def trace(x):
    """The sum of a matrix's diagonal."""
    (x,) = _ndims("trace", (2,), x)
    i = xp.arange(min(x._data.shape))
    return sum(getitem(x, (i, i)))


@public
def cross(a, b, dim=None):
    """The cross product of 3-vectors along ``dim``: by default the first dim of size 3 (PyTorch's
    torch.cross, which warns about it; ``linalg.cross`` uses -1)."""
    a, b = as_tensor(a), as_tensor(b)
    shape = xp.broadcast_shapes(a._data.shape, b._data.shape) if a._data.ndim == b._data.ndim else None
    if shape is None:
        raise ShapeError(f"cross: the inputs must have the same number of dimensions, got shapes {_shapes(a, b)}")
    if dim is None:
        sizes = [i for i, s in enumerate(shape) if s == 3]
        if not sizes:
            raise ShapeError(f"cross: no dimension of size 3 in shapes {_shapes(a, b)}")
        dim = sizes[0]
    d = one(dim, len(shape), "cross")
    if shape[d] != 3 or a._data.shape[d] != 3 or b._data.shape[d] != 3:
        raise ShapeError(f"cross: dim {dim} must have size 3 in both inputs, got shapes {_shapes(a, b)}")
    lead = (slice(None),) * d

    def part(t, k):
        return getitem(t, lead + (slice(k, k + 1),))

    a0, a1, a2 = (part(a, k) for k in range(3))
    b0, b1, b2 = (part(b, k) for k in range(3))
    return cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


@public
def kron(a, b):
    """The Kronecker product: every entry of ``a`` times all of ``b``, blocks laid out as ``a``."""
    a, b = as_tensor(a), as_tensor(b)
    n = max(a._data.ndim, b._data.ndim)
    sa = (1,) * (n - a._data.ndim) + a._data.shape
    sb = (1,) * (n - b._data.ndim) + b._data.shape
    spread_a = reshape(a, tuple(v for s in sa for v in (s, 1)))
    spread_b = reshape(b, tuple(v for s in sb for v in (1, s)))
    return reshape(spread_a * spread_b, tuple(p * q for p, q in zip(sa, sb)))


@public(method=False)
def cdist(x1, x2, p: float = 2.0, compute_mode=None):
    """The p-norm distance between each row of x1 (…, P, M) and each row of x2 (…, R, M): (…, P, R).
    The 2-norm's gradient at distance 0 is 0 (PyTorch), not NaN."""
    a, b = as_tensor(x1), as_tensor(x2)
    if a._data.ndim < 2 or b._data.ndim < 2 or a._data.shape[-1] != b._data.shape[-1]:
        raise ShapeError(f"cdist: expects (…, P, M) and (…, R, M) with the same M, got shapes {_shapes(a, b)}")
    if p < 0:
        raise ValueError(f"cdist: p must be non-negative, got {p}")
    diff = unsqueeze(a, -2) - unsqueeze(b, -3)
    if p == 0:
        return registry._Tensor._make(xp.count_nonzero(diff._data, axis=-1).astype(a._data.dtype), None)
    return norm(diff, p, -1)
