"""Matrix products: ``matmul`` with NumPy's 1-D and batch rules, and the fused ``linear``."""
from __future__ import annotations

from .. import autograd as _ag
from ..backend import xp
from ..errors import DTypeError, ShapeError
from . import registry
from .arraymath import ones
from .elementwise import IN_PLACE, RELU, SIGMOID, TANH
from .registry import binary, defop


def _matmul_vjp(F, g, x, y, kw, need):
    a, b = x
    na, nb = len(a.shape), len(b.shape)
    if na == 1 and nb == 1:  # a dot product: g is a scalar
        return (g * b if need[0] else None, g * a if need[1] else None)
    a2 = F.reshape(a, (1,) + tuple(a.shape)) if na == 1 else a
    b2 = F.reshape(b, tuple(b.shape) + (1,)) if nb == 1 else b
    g2 = g
    if na == 1:
        g2 = F.reshape(g2, tuple(g.shape[:-1]) + (1, g.shape[-1]))
    if nb == 1:
        g2 = F.reshape(g2, tuple(g2.shape) + (1,))
    ga = gb = None
    if need[0]:
        ga = F.reshape(F.sum_to(F.matmul(g2, F.transpose(b2, -1, -2)), tuple(a2.shape)), tuple(a.shape))
    if need[1]:
        gb = F.reshape(F.sum_to(F.matmul(F.transpose(a2, -1, -2), g2), tuple(b2.shape)), tuple(b.shape))
    return ga, gb


MATMUL = defop("matmul", xp.matmul, _matmul_vjp, saves="x")
_matmul = binary(MATMUL)


_COLUMN_MAJOR_FROM = 1 << 18  # result elements


def _product(a, b):
    """a @ b for 2-D arrays, written column-major when the result is large.

    OpenBLAS's kernel on this machine runs large products 2-5% faster into a
    column-major result (measured on the benchmark's shapes: a (512, 2048) product
    by a (2048, 2048) weight at 103 instead of 100 GFLOP/s; x @ Wᵀ's gradient
    g @ W at 102-104 instead of 97).  Small products gain nothing and some lose.
    The values are the same; only the memory order differs.
    """
    m, n = a.shape[0], b.shape[1]
    if m * n >= _COLUMN_MAJOR_FROM and a.dtype == b.dtype:
        return xp.matmul(a, b, out=xp.empty((n, m), dtype=a.dtype).T)
    return a @ b


def _linear_fwd(x, w, b=None):
    y = _product(x, w.T) if x.ndim == 2 else x @ w.T
    if b is not None:
        y += b
    return y


def _linear_vjp(F, g, x, y, kw, need):
    """y = x Wᵀ + b:  dx = g W,  dW = gᵀ x,  db = Σ g over the batch."""
    xin, w = x[0], x[1]
    if not need[0]:
        gx = None
    elif isinstance(g, xp.ndarray) and g.ndim == 2 and isinstance(w, xp.ndarray):
        gx = _product(g, w)
    else:
        gx = F.matmul(g, w)
    gw = gb = None
    if need[1] or (len(need) > 2 and need[2]):
        g2 = g if len(g.shape) == 2 else F.reshape(g, (-1, g.shape[-1]))
        if need[1]:
            x2 = xin if len(xin.shape) == 2 else F.reshape(xin, (-1, xin.shape[-1]))
            if isinstance(w, xp.ndarray) and w.flags.f_contiguous and not w.flags.c_contiguous:
                gw = (x2.T @ g2).T  # the same column-major layout as the weight (see nn.Linear)
            else:
                gw = F.matmul(F.transpose(g2, 0, 1), x2)
        if len(need) > 2 and need[2]:
            if isinstance(g2, xp.ndarray) and g2.dtype.kind == "f":
                gb = ones((g2.shape[0],), g2.dtype) @ g2  # BLAS sums the batch faster than a reduction
            else:
                gb = F.sum(g2, axis=0)
    return (gx, gw, gb) if len(need) > 2 else (gx, gw)


LINEAR = defop("linear", _linear_fwd, _linear_vjp, saves="x")


def _fuse(act):
    """linear then ``act`` as one op: the product overwritten by the activation; backward runs
    the activation's own rule (from the output) and then the linear's."""
    in_place = IN_PLACE[act]

    def fwd(x, w, b=None):
        return in_place(_linear_fwd(x, w, b))

    def vjp(F, g, x, y, kw, need):
        (g,) = act.vjp(F, g, None, y, None, (True,))
        return _linear_vjp(F, g, x, None, kw, need)

    return defop("linear_" + act.name, fwd, vjp, saves="xy")


FUSED = {a.name: _fuse(a) for a in (RELU, SIGMOID, TANH)}


def matmul(a, b):
    from . import registry

    T = registry._Tensor
    for v, side in ((a, "first"), (b, "second")):
        if isinstance(v, T) and v.data.ndim == 0:
            raise ShapeError(f"matmul: the {side} operand is a 0-d tensor; matmul needs at least 1 dimension")
    if isinstance(a, T) and isinstance(b, T):
        sa, sb = a.data.shape, b.data.shape
        k = sb[0] if len(sb) == 1 else sb[-2]
        if sa[-1] != k:
            raise ShapeError(
                f"matmul: shapes {sa} and {sb} do not fit: the first's last axis ({sa[-1]}) must equal "
                f"the second's {'only' if len(sb) == 1 else 'second-to-last'} axis ({k})"
            )
    return _matmul(a, b)


def linear(x, weight, bias=None):
    """x @ weight.T + bias in one op (one node, one fewer temporary)."""
    return _record(LINEAR, _linear_fwd, x, weight, bias)


def linear_act(x, weight, bias, activation: str):
    """activation(x @ weight.T + bias) in one op, ``activation`` one of "relu", "sigmoid", "tanh":
    the activation runs in place on the product, which no one else can see.  ``nn.Sequential``
    uses it for a Linear directly followed by one of those layers (see container.py)."""
    op = FUSED[activation]
    return _record(op, op.fwd, x, weight, bias)


def _record(op, fwd, x, weight, bias):
    """Check the operands, run ``fwd`` on arrays and record one node: the layer every network
    runs, recorded directly, without the generic apply's loops."""
    xs, ws = x.data.shape, weight.data.shape
    if weight.data.ndim != 2 or xs[-1:] != ws[1:]:
        raise ShapeError(
            f"linear: input of shape {xs} does not fit weight of shape {ws} "
            f"(expects the input's last axis to be {ws[-1] if ws else '?'})"
        )
    if bias is not None and bias.data.shape != ws[:1]:
        raise ShapeError(f"linear: bias of shape {bias.data.shape} does not fit weight of shape {ws}")
    if x.data.dtype != weight.data.dtype:
        from .registry import check_dtypes

        check_dtypes("linear", x.data, weight.data)
        x = x.to(weight.data.dtype)
    if bias is not None and bias.data.dtype != weight.data.dtype:
        raise DTypeError(f"linear: bias is {bias.data.dtype} but weight is {weight.data.dtype}")
    xd, wd = x.data, weight.data
    bd = None if bias is None else bias.data
    y = fwd(xd, wd, bd)
    rx, rw, rb = x._rg, weight._rg, bias is not None and bias._rg
    if not (rx or rw or rb) or not _ag._grad_enabled:
        return registry._Tensor._make(y, None)
    saved_y = y if op.saves_y else None
    if bias is None:
        node = _ag.Node(op, ((x.grad_fn or x) if rx else None, (weight.grad_fn or weight) if rw else None),
                        (rx, rw), (xd, wd), (x, weight), saved_y, None)
    else:
        node = _ag.Node(op, ((x.grad_fn or x) if rx else None, (weight.grad_fn or weight) if rw else None,
                             (bias.grad_fn or bias) if rb else None),
                        (rx, rw, rb), (xd, wd, bd), (x, weight, bias), saved_y, None)
    return registry._Tensor._make(y, node)
