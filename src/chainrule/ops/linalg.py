"""Matrix products: ``matmul`` with NumPy's 1-D and batch rules, and the fused ``linear``."""
from __future__ import annotations

import builtins

from .. import layout
from ..backend import xp
from ..errors import DTypeError, ShapeError
from . import registry
from .arraymath import ones
from .registry import REGISTRY, Case, apply, binary, defop, nary, public


def _matmul_vjp(F, g, x, y, kw, need):
    """da = g bᵀ, db = aᵀ g, with 1-D operands treated as a row (a) or a column (b); batch axes
    that were broadcast are summed by the engine."""
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
        ga = F.matmul(g2, F.transpose(b2, -1, -2))
        if na == 1:
            ga = F.reshape(ga, tuple(ga.shape[:-2]) + (ga.shape[-1],))
    if need[1]:
        gb = F.matmul(F.transpose(a2, -1, -2), g2)
        if nb == 1:
            gb = F.reshape(gb, tuple(gb.shape[:-1]))
    return ga, gb


MATMUL = defop("matmul", xp.matmul, _matmul_vjp, saves="x", test=[
    Case(lambda t, a, b: a @ b, shapes=[(2, 3), (3, 4)]),
    Case(lambda t, a, b: a @ b, shapes=[(3,), (2, 3, 4)]),
    Case(lambda t, a, b: a @ b, shapes=[(2, 2, 3), (3,)]),
    Case(lambda t, a, b: a @ b, shapes=[(3,), (3,)]),
    Case(lambda t, a, b: a @ b, shapes=[(2, 1, 2, 3), (3, 3, 2)]),
])
_matmul = binary(MATMUL)


def _linear_fwd(x, w, b=None):
    y = layout.product(x, w.T) if x.ndim == 2 else x @ w.T
    if b is not None:
        y += b
    return y


def _linear_vjp(F, g, x, y, kw, need):
    """y = x Wᵀ + b:  dx = g W,  dW = gᵀ x,  db = Σ g over the batch."""
    xin, w = x[0], x[1]
    gx = F.matmul(g, w) if need[0] else None
    g2 = g if len(g.shape) == 2 else F.reshape(g, (-1, g.shape[-1]))
    gw = gb = None
    if need[1]:
        x2 = xin if len(xin.shape) == 2 else F.reshape(xin, (-1, xin.shape[-1]))
        gw = F.matmul(F.transpose(g2, 0, 1), x2)
    if len(need) > 2 and need[2]:
        gb = F.sum(g2, axis=0)
    return gx, gw, gb


def _linear_fast(F, g, x, y, kw, need):
    """The same rule on arrays, laid out for BLAS: products in the weight's memory order and the
    bias gradient as one matrix-vector product (faster than a reduction over the batch)."""
    xin, w = x[0], x[1]
    gx = None
    if need[0]:
        gx = layout.product(g, w) if g.ndim == 2 else g @ w
    g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
    gw = gb = None
    if need[1]:
        gw = layout.weight_grad(xin if xin.ndim == 2 else xin.reshape(-1, xin.shape[-1]), g2, w)
    if len(need) > 2 and need[2]:
        gb = ones((g2.shape[0],), g2.dtype) @ g2 if g2.dtype.kind == "f" else g2.sum(axis=0)
    return gx, gw, gb


def _torch_linear(t, x, w, b=None):
    return t.nn.functional.linear(x, w, b)


LINEAR = defop("linear", _linear_fwd, _linear_vjp, saves="x", fast=_linear_fast, test=[
    Case(_torch_linear, shapes=[(4, 3), (2, 3), (2,)]),
    Case(_torch_linear, shapes=[(2, 4, 3), (2, 3)]),
])


def fused_linear(act):
    """The public function of "linear, then the activation ``act``" (any op with an in-place kernel),
    kept on the activation's entry as ``act.fused`` (its own entry is ``act.fused.op``).

    The activation overwrites the product, which no one else can see; backward runs the
    activation's own rule (from the output) and then the linear's.
    """
    if act.fused is not None:
        return act.fused
    if act.inplace is None:
        raise ValueError(f"{act.name} has no in-place kernel, so it cannot be fused after linear")
    in_place, act_case = act.inplace, act.test[0] if isinstance(act.test, list) else act.test

    def fwd(x, w, b=None):
        return in_place(_linear_fwd(x, w, b))

    def vjp(F, g, x, y, kw, need):
        (g,) = act.vjp(F, g, None, y, None, (True,))
        return _linear_vjp(F, g, x, None, kw, need)

    def fast(F, g, x, y, kw, need):
        (g,) = act.fast(F, g, None, y, None, (True,))
        return _linear_fast(F, g, x, None, kw, need)

    op = defop("linear_" + act.name, fwd, vjp, saves="xy", fast=fast, test=Case(
        lambda t, x, w, b: act_case.torch(t, t.nn.functional.linear(x, w, b)),
        call=lambda x, w, b: linear_act(x, w, b, act), shapes=[(4, 3), (2, 3), (2,)]))
    act.fused = nary(op, _check_linear)
    return act.fused


def matmul(a, b, *, out=None):
    T = registry._Tensor
    if out is not None:
        return registry.into(out, matmul(a, b), "matmul")
    for v, side in ((a, "first"), (b, "second")):
        if isinstance(v, T) and v._data.ndim == 0:
            raise ShapeError(f"matmul: the {side} operand is a 0-d tensor; matmul needs at least 1 dimension")
    if isinstance(a, T) and isinstance(b, T):
        sa, sb = a._data.shape, b._data.shape
        k = sb[0] if len(sb) == 1 else sb[-2]
        if sa[-1] != k:
            raise ShapeError(
                f"matmul: shapes {sa} and {sb} do not fit: the first's last axis ({sa[-1]}) must equal "
                f"the second's {'only' if len(sb) == 1 else 'second-to-last'} axis ({k})"
            )
    return _matmul(a, b)


def _check_linear(x, weight, bias=None):
    """The operands of linear, checked and in one dtype (an integer input takes the weight's)."""
    xs, ws = x._data.shape, weight._data.shape
    if weight._data.ndim != 2 or xs[-1:] != ws[1:]:
        raise ShapeError(
            f"linear: input of shape {xs} does not fit weight of shape {ws} "
            f"(expects the input's last axis to be {ws[-1] if ws else '?'})"
        )
    if bias is not None and bias._data.shape != ws[:1]:
        raise ShapeError(f"linear: bias of shape {bias._data.shape} does not fit weight of shape {ws}")
    if x._data.dtype != weight._data.dtype:
        registry.check_dtypes("linear", x._data, weight._data)
        x = x.to(weight._data.dtype)
    if bias is not None and bias._data.dtype != weight._data.dtype:
        raise DTypeError(f"linear: bias is {bias._data.dtype} but weight is {weight._data.dtype}")
    return (x, weight) if bias is None else (x, weight, bias)


linear = nary(LINEAR, _check_linear)
linear.__doc__ = """linear(x, weight, bias=None): x @ weight.T + bias in one op (one node, one fewer temporary)."""


def linear_act(x, weight, bias, activation):
    """activation(x @ weight.T + bias) in one op; ``activation`` is an op entry with an in-place
    kernel (or its name).  ``nn.Sequential`` uses it for a Linear directly followed by such an
    activation layer (see container.py)."""
    act = REGISTRY[activation] if isinstance(activation, str) else activation
    return (act.fused or fused_linear(act))(x, weight, bias)


for _act in [op for op in REGISTRY.values() if op.inplace is not None]:
    fused_linear(_act)  # in the table from the start, so the generated tests see them


# ------------------------------------------------------------------ batched and other products
@public
def bmm(a, b):
    """Batched matrix product of (B, n, m) and (B, m, p), no broadcasting (PyTorch's bmm)."""
    if a._data.ndim != 3 or b._data.ndim != 3 or a._data.shape[0] != b._data.shape[0]:
        raise ShapeError(f"bmm: expects (B, n, m) and (B, m, p) with the same B, "
                         f"got {a._data.shape} and {b._data.shape}")
    return matmul(a, b)


@public
def baddbmm(input, batch1, batch2, *, beta: float = 1.0, alpha: float = 1.0):
    """beta·input + alpha·(batch1 @ batch2)."""
    prod = bmm(batch1, batch2)
    prod = prod if alpha == 1 else prod * alpha
    return prod if beta == 0 else prod + (input if beta == 1 else input * beta)


@public
def outer(a, b):
    """a[i]·b[j] for 1-D a and b."""
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise ShapeError(f"outer: expects two 1-D tensors, got shapes {a._data.shape} and {b._data.shape}")
    return a.reshape(-1, 1) * b.reshape(1, -1)


def _einsum_vjp(F, g, xs, y, kw, need):
    """The gradient of operand i is the einsum of g with the other operands, back to i's letters."""
    ins, out = kw["ins"], kw["out"]
    grads = []
    for i, n in enumerate(need):
        if not n:
            grads.append(None)
            continue
        others = [x for j, x in enumerate(xs) if j != i]
        eq = ",".join([out] + [s for j, s in enumerate(ins) if j != i]) + "->" + ins[i]
        rest = (out,) + tuple(s for j, s in enumerate(ins) if j != i)
        grads.append(F.run(EINSUM, (g, *others), {"eq": eq, "ins": rest, "out": ins[i]}))
    return tuple(grads)


EINSUM = defop("einsum", lambda *xs, eq, ins, out: xp.einsum(eq, *xs), _einsum_vjp, saves="x", test=[
    Case(lambda t, a, b: t.einsum("ij,jk->ik", a, b), shapes=[(2, 3), (3, 4)],
         call=lambda a, b: einsum("ij,jk->ik", a, b)),
    Case(lambda t, a, b: t.einsum("bij,bj->bi", a, b), shapes=[(2, 3, 4), (2, 4)],
         call=lambda a, b: einsum("bij,bj->bi", a, b)),
    Case(lambda t, a, b: t.einsum("i,j->ij", a, b), shapes=[(3,), (4,)], call=lambda a, b: einsum("i,j->ij", a, b)),
    Case(lambda t, a, b: t.einsum("...ij,...jk->...ik", a, b), shapes=[(2, 1, 2, 3), (4, 3, 2)],
         call=lambda a, b: einsum("...ij,...jk->...ik", a, b)),
    Case(lambda t, a, b: t.einsum("b...d,b...d->b...", a, b), shapes=[(2, 3, 4), (2, 3, 4)],
         call=lambda a, b: einsum("b...d,b...d->b...", a, b)),
])


def _ellipsis_named(equation: str, eq: str, operands: tuple):
    """``...`` spelled out with letters the equation does not use, right-aligned as broadcasting aligns
    axes; operands whose ``...`` axes differ are broadcast (``broadcast_to``, so the gradient sums back)."""
    from .shape import broadcast_to

    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise ValueError(f"einsum {equation!r}: {len(ins)} operands in the equation, {len(operands)} given")
    counts = [x._data.ndim - len(s.replace("...", "")) if "..." in s else 0 for s, x in zip(ins, operands)]
    if any(c < 0 for c in counts):
        raise ShapeError(f"einsum {equation!r}: an operand has fewer dimensions than its letters")
    spare = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq]
    m = builtins.max(counts)
    letters = "".join(spare[:m])
    batch = xp.broadcast_shapes(*[x._data.shape[s.index("..."):s.index("...") + c]
                                  for s, x, c in zip(ins, operands, counts) if "..." in s])
    named, spread = [], []
    for s, x, c in zip(ins, operands, counts):
        if "..." not in s:
            named.append(s)
            spread.append(x)
            continue
        at = s.index("...")
        want = x._data.shape[:at] + batch[m - c:] + x._data.shape[at + c:]
        named.append(s.replace("...", letters[m - c:]))
        spread.append(x if x._data.shape == want else broadcast_to(x, want))
    if not arrow:  # NumPy's and PyTorch's implicit output: the ... axes, then the letters used once, in order
        used = "".join(named)
        out = letters + "".join(sorted(c for c in set(used) if c not in letters and used.count(c) == 1))
    else:
        out = out.replace("...", letters)
    return ",".join(named) + "->" + out, tuple(spread)


@public
def einsum(equation: str, *operands):
    """Einstein summation (``"ij,jk->ik"``, ``"...ij,...jk->...ik"``); each operand's letters distinct and each
    of them also in the output or another operand (what the gradient needs)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    if "..." in eq:
        eq, operands = _ellipsis_named(equation, eq, tuple(operands))
    lhs, arrow, out = eq.partition("->")
    ins = tuple(lhs.split(","))
    if not arrow:  # NumPy's implicit output: the letters used once, in order
        out = "".join(sorted(c for c in set(lhs) if c.isalpha() and lhs.count(c) == 1))
    if len(ins) != len(operands):
        raise ValueError(f"einsum {equation!r}: {len(ins)} operands in the equation, {len(operands)} given")
    for i, (s, x) in enumerate(zip(ins, operands)):
        if len(s) != x._data.ndim:
            raise ShapeError(f"einsum {equation!r}: operand {i} has {x._data.ndim} dimensions, the equation {len(s)}")
        rest = out + "".join(t for j, t in enumerate(ins) if j != i)
        if len(set(s)) != len(s) or any(c not in rest for c in s):
            raise ValueError(f"einsum {equation!r}: operand {i}'s letters {s!r} must be distinct and each appear in "
                             "the output or another operand (write the sum over an axis with .sum(dim))")
    return apply(EINSUM, tuple(operands), {"eq": ",".join(ins) + "->" + out, "ins": ins, "out": out})
