"""The single table of primitive ops and the functions that apply them.

An op is a forward on raw arrays and a vector-Jacobian product beside it.  The
VJP rule is written once, against a small namespace ``F`` of array functions:
``ArrayMath`` (raw NumPy arrays, the fast first-order path) or the public ops
themselves (Tensors, when ``create_graph=True`` records the backward pass).

    vjp(F, g, xs, y, kw, need) -> one gradient (or None) per input

``xs`` are the inputs, ``y`` the output, ``kw`` the op's keyword arguments and
``need[i]`` says whether input ``i`` wants a gradient.
"""
from __future__ import annotations

from typing import Any, Callable

from .. import autograd as _ag
from ..backend import xp
from ..errors import DTypeError, ShapeError

REGISTRY: dict[str, "Op"] = {}


class Op:
    __slots__ = ("name", "fwd", "vjp", "saves", "saves_y", "residual")

    def __init__(self, name: str, fwd: Callable, vjp: Callable | None, saves: bool, saves_y: bool,
                 residual: bool = False):
        self.name, self.fwd, self.vjp, self.saves, self.saves_y = name, fwd, vjp, saves, saves_y
        self.residual = residual

    def __repr__(self) -> str:
        return f"Op({self.name})"


def defop(name: str, fwd: Callable, vjp: Callable | None, saves: str = "xy", residual: bool = False) -> Op:
    """Register a primitive.  ``saves`` says what the VJP reads: "x" inputs, "y" output.

    With ``residual=True`` the forward returns ``(output, residual)`` and the
    rule receives the residual as ``y`` (JAX's fwd/bwd split), e.g. the softmax
    that cross-entropy's gradient needs.  A differentiable (create_graph)
    backward passes ``y=None`` and the rule recomputes it from the inputs.
    """
    if name in REGISTRY:
        raise ValueError(f"op {name!r} is defined twice")
    op = Op(name, fwd, vjp, "x" in saves or residual, "y" in saves or residual, residual)
    REGISTRY[name] = op
    return op


_Tensor: Any = None  # bound by tensor.py
_ndarray = xp.ndarray
_float64 = xp.dtype("float64")


def _shape_of(v) -> str:
    s = getattr(v, "shape", None)
    return str(tuple(s)) if s is not None else repr(v)


def op_error(op: Op, exc: Exception, xd: tuple, kw: dict | None) -> Exception:
    """Rephrase a NumPy failure inside ``op`` in the user's terms."""
    shapes = " and ".join(_shape_of(v) for v in xd)
    msg = str(exc)
    if isinstance(exc, ValueError) and "could not be broadcast" in msg:
        return ShapeError(f"{op.name}: shapes {shapes} cannot be broadcast together "
                          "(aligned from the last axis, each pair of sizes must be equal or 1)")
    if isinstance(exc, ValueError) and ("broadcast" in msg or "shape" in msg or "mismatch" in msg
                                        or "dimension" in msg or "size" in msg):
        return ShapeError(f"{op.name}: incompatible shapes {shapes}" + (f" ({kw})" if kw else "") + f": {msg}")
    if isinstance(exc, IndexError):
        from ..errors import IndexOutOfRange

        return IndexOutOfRange(f"{op.name}: {msg} (tensor shape {_shape_of(xd[0])})")
    try:
        return type(exc)(f"{op.name} on shapes {shapes}: {msg}")
    except TypeError:  # an exception class with its own constructor (NumPy's casting errors)
        return DTypeError(f"{op.name} on shapes {shapes}: {msg}")


def as_tensor(x):
    """``x`` if it is a Tensor, else a new constant Tensor of it (lists, arrays, numbers)."""
    T = _Tensor
    return x if x.__class__ is T or isinstance(x, T) else T(x)


def as_value(x, like=None):
    """A non-Tensor operand: Python scalars stay weak (they never upcast float32)."""
    if isinstance(x, xp.generic):  # a NumPy scalar such as np.float64(2.0) (a float subclass): a Python number
        return x.item()
    if isinstance(x, (bool, int, float)):
        return x
    return _Tensor(x)


def check_dtypes(name: str, ad, bd):
    """Refuse float32 (or float16) meeting float64; cast integers and bools to the float side."""
    ka, kb = ad.dtype.kind, bd.dtype.kind
    if ka == "f" and kb == "f":
        if ad.dtype == _float64 or bd.dtype == _float64:
            raise DTypeError(
                f"{name}: mixing {ad.dtype} and {bd.dtype} would silently compute in float64; "
                "convert one side first (.float() or .double())"
            )
        return ad, bd
    if ka == "f" and kb in "biu":
        return ad, bd.astype(ad.dtype)
    if kb == "f" and ka in "biu":
        return ad.astype(bd.dtype), bd
    return ad, bd


def apply1(op: Op, x, kw: dict | None = None):
    """Apply a one-input op to a Tensor ``x``."""
    d = x.data
    try:
        y = op.fwd(d) if kw is None else op.fwd(d, **kw)
    except (ValueError, IndexError, TypeError) as e:
        raise op_error(op, e, (d,), kw) from None
    if y.__class__ is not _ndarray:
        y = xp.asarray(y)
    if x._rg and _ag._grad_enabled:
        saves = op.saves
        node = _ag.Node(op, (x.grad_fn or x,), _NEED1, (d,) if saves else None, (x,) if saves else None,
                        y if op.saves_y else None, kw)
        return _Tensor._make(y, node)
    return _Tensor._make(y, None)


_NEED1 = (True,)


def binary(op: Op):
    """The public function of a two-input op: one closure, one call deep (the hot path of every
    network), with the op's fields bound once.  Either side may be a Python number or array-like."""
    fwd, saves, saves_y, name = op.fwd, op.saves, op.saves_y, op.name
    Node = _ag.Node

    def call(a, b):
        T = _Tensor
        if a.__class__ is not T and not isinstance(a, T) or b.__class__ is not T and not isinstance(b, T):
            return _apply2_mixed(op, a, b, None)
        ad = a.data
        bd = b.data
        if ad.dtype is not bd.dtype:
            ad, bd = check_dtypes(name, ad, bd)
        try:
            y = fwd(ad, bd)
        except (ValueError, IndexError, TypeError) as e:
            raise op_error(op, e, (ad, bd), None) from None
        if y.__class__ is not _ndarray:
            y = xp.asarray(y)
        ra = a._rg
        rb = b._rg
        if (ra or rb) and _ag._grad_enabled:
            node = Node(
                op,
                ((a.grad_fn or a) if ra else None, (b.grad_fn or b) if rb else None),
                (ra, rb),
                (ad, bd) if saves else None,
                (a, b) if saves else None,
                y if saves_y else None,
                None,
            )
            return T._make(y, node)
        return T._make(y, None)

    call.__name__ = call.__qualname__ = name
    return call


def unary(op: Op, floating: bool = False):
    """The public function of a one-input op; ``floating`` ops (exp, tanh, ...) turn integer
    input into float32 first, as PyTorch does, never float64."""
    fwd, saves, saves_y, name = op.fwd, op.saves, op.saves_y, op.name
    Node = _ag.Node

    def call(x):
        T = _Tensor
        if x.__class__ is not T and not isinstance(x, T):
            x = T(x)
        d = x.data
        if floating and d.dtype.kind != "f":
            x = x.float()
            d = x.data
        try:
            y = fwd(d)
        except (ValueError, IndexError, TypeError) as e:
            raise op_error(op, e, (d,), None) from None
        if y.__class__ is not _ndarray:
            y = xp.asarray(y)
        if x._rg and _ag._grad_enabled:
            node = Node(op, (x.grad_fn or x,), _NEED1, (d,) if saves else None, (x,) if saves else None,
                        y if saves_y else None, None)
            return T._make(y, node)
        return T._make(y, None)

    call.__name__ = call.__qualname__ = name
    return call


def _apply2_mixed(op: Op, a, b, kw: dict | None):
    """A Tensor with a Python number (kept weak: float32 stays float32) or array-like."""
    T = _Tensor
    if not isinstance(a, T):
        a = as_value(a)
    if not isinstance(b, T):
        b = as_value(b)
    ta, tb = isinstance(a, T), isinstance(b, T)
    if ta and tb:
        return binary(op)(a, b)
    t, num = (a, b) if ta else (b, a)
    td = t.data
    if td.dtype.kind in "biu" and isinstance(num, float):
        td = td.astype(xp.float32)  # int tensor * 0.5 -> float32 (PyTorch's default), not float64
    ad, bd = (td, num) if ta else (num, td)
    try:
        y = op.fwd(ad, bd) if kw is None else op.fwd(ad, bd, **kw)
    except (ValueError, IndexError, TypeError) as e:
        raise op_error(op, e, (ad, bd), kw) from None
    if y.__class__ is not _ndarray:
        y = xp.asarray(y)
    if t._rg and _ag._grad_enabled:
        parent = t.grad_fn or t
        saves = op.saves
        node = _ag.Node(
            op,
            (parent, None) if ta else (None, parent),
            (True, False) if ta else (False, True),
            (ad, bd) if saves else None,
            (a, b) if saves else None,
            y if op.saves_y else None,
            kw,
        )
        return T._make(y, node)
    return T._make(y, None)


def apply(op: Op, inputs: tuple, kw: dict | None = None):
    """Apply an op with any number of inputs (Tensors or constants)."""
    T = _Tensor
    xd = tuple([x.data if isinstance(x, T) else x for x in inputs])
    try:
        y = op.fwd(*xd, **kw) if kw else op.fwd(*xd)
    except (ValueError, IndexError, TypeError) as e:
        raise op_error(op, e, xd, kw) from None
    res = None
    if op.residual:
        y, res = y
    if y.__class__ is not _ndarray:
        y = xp.asarray(y)
    return T._make(y, _ag.make_node(op, inputs, xd, res if op.residual else y, kw))
