"""PyTorch's named products over matmul and elementwise ops: mm, mv, dot, inner, addmv, addr,
addcmul, addcdiv, trace, cross, kron, cdist.  Each checks its shapes (PyTorch's stricter rules:
mm wants matrices, dot vectors of one length) and is a composition, so differentiable twice."""
from __future__ import annotations

from ..backend import xp
from ..errors import DTypeError, ShapeError
from . import registry
from .axes import one
from .index import getitem
from .linalg import matmul
from .reduce import norm, sum
from .registry import Case, apply1, as_tensor, defop, public
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


@public
def dist(a, b, p: float = 2.0):
    """The p-norm of a − b (broadcast)."""
    return norm(as_tensor(a) - b, p)


@public
def cov(x, *, correction: int = 1, fweights=None, aweights=None):
    """The covariance of the rows of ``x`` (variables) over its columns (observations), with PyTorch's
    frequency and observation weights."""
    from .reduce import mean

    x = as_tensor(x)
    if x._data.ndim > 2:
        raise ShapeError(f"cov: expects a 1-D or 2-D tensor, got shape {x._data.shape}")
    if x._data.ndim < 2:
        x = reshape(x, (1, -1))
    if x._data.dtype.kind != "f":
        x = x.float()
    n = x._data.shape[1]
    if fweights is None and aweights is None:
        xm = x - mean(x, 1, keepdim=True)
        return _squeezed(matmul(xm, permute(xm, (1, 0))) / max(n - correction, 0))
    w = None
    for name, v in (("fweights", fweights), ("aweights", aweights)):
        if v is not None:
            v = as_tensor(v)
            if v._data.shape != (n,):
                raise ShapeError(f"cov: {name} must be 1-D with one weight per observation ({n}), got {v._data.shape}")
            if (v._data < 0).any():
                raise ValueError(f"cov: {name} must be non-negative")
            v = v.to(x._data.dtype)
            w = v if w is None else w * v
    total = sum(w)
    avg = sum(x * w, 1, keepdim=True) / total
    factor = total - (correction * sum(w * aweights.to(x._data.dtype)) / total if aweights is not None else correction)
    xm = x - avg
    return _squeezed(matmul(xm * w, permute(xm, (1, 0))) / factor)


def _squeezed(c):
    return reshape(c, ()) if c._data.shape == (1, 1) else c


@public
def corrcoef(x):
    """Pearson's correlation of the rows of ``x``, clipped to [-1, 1] (as PyTorch)."""
    from .elementwise import clip, sqrt

    c = cov(x)
    if c._data.ndim == 0:
        return c / c
    d = sqrt(getitem(c, (xp.arange(c._data.shape[0]),) * 2))
    return clip(c / reshape(d, (-1, 1)) / reshape(d, (1, -1)), -1.0, 1.0)


# ------------------------------------------------------------------ inverses and determinants
INVERSE = defop("inverse", xp.linalg.inv, lambda F, g, x, y, kw, need: (
    -F.matmul(F.matmul(F.transpose(y, -1, -2), g), F.transpose(y, -1, -2)),), saves="y",
    test=Case(lambda t, a: t.linalg.inv(a + 3 * t.eye(3, dtype=a.dtype)),
              call=lambda a: inverse(a + 3 * _EYE3.astype(a._data.dtype)), shapes=[(2, 3, 3)]))


def _det_vjp(F, g, x, y, kw, need):
    gy = F.reshape(g * y, tuple(g.shape) + (1, 1))
    return (gy * F.transpose(F.run(INVERSE, (x[0],)), -1, -2),)


DET = defop("det", xp.linalg.det, _det_vjp, saves="xy",
            test=Case(lambda t, a: t.linalg.det(a + 3 * t.eye(3, dtype=a.dtype)),
                      call=lambda a: det(a + 3 * _EYE3.astype(a._data.dtype)), shapes=[(2, 3, 3)]))
_EYE3 = xp.eye(3)


def _square(x, op: str):
    x = as_tensor(x)
    if x._data.ndim < 2 or x._data.shape[-1] != x._data.shape[-2]:
        raise ShapeError(f"{op}: expects square matrices (…, n, n), got shape {x._data.shape}")
    if x._data.dtype.kind != "f":
        raise DTypeError(f"{op}: needs a floating-point tensor, got {x._data.dtype} (use .float())")
    return x


@public
def inverse(x):
    """The inverse of each square matrix; a singular one is an error naming inverse."""
    return apply1(INVERSE, _square(x, "inverse"))


@public
def det(x):
    """The determinant of each square matrix (its gradient needs the inverse: refused where singular;
    PyTorch's goes through the SVD there)."""
    return apply1(DET, _square(x, "det"))


@public
def matrix_power(x, n: int):
    """x multiplied by itself n times (n = 0: the identity; n < 0: powers of the inverse)."""
    x = _square(x, "matrix_power")
    if n < 0:
        x, n = inverse(x), -n
    out = None
    base = x
    while n:  # by squaring: log2(n) products
        if n & 1:
            out = base if out is None else matmul(out, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    if out is None:
        eye = xp.broadcast_to(xp.eye(x._data.shape[-1], dtype=x._data.dtype), x._data.shape)
        return registry._Tensor._make(eye.copy(), None)
    return out


@public(method=False)
def chain_matmul(*matrices):
    """m1 @ m2 @ … (PyTorch's chain_matmul / linalg.multi_dot), left to right."""
    ms = matrices[0] if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)) else matrices
    if not ms:
        raise ValueError("chain_matmul: needs at least one matrix")
    out = as_tensor(ms[0])
    for m in ms[1:]:
        out = mm(out, m)
    return out


@public
def addbmm(input, batch1, batch2, *, beta: float = 1.0, alpha: float = 1.0):
    """beta·input + alpha·Σ_b batch1[b] @ batch2[b]."""
    from .linalg import bmm

    return _scaled_sum(input, sum(bmm(batch1, batch2), 0), beta, alpha)
