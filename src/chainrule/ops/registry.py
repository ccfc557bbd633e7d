"""The op table: one declarative entry per primitive, and the recorders generated from it.

An entry (``defop``) says everything about an op, in one place:

    fwd(*arrays, **kw) -> array            (or (array, residual) with residual=True)
    vjp(F, g, x, y, kw, need) -> one gradient (or None) per input, written against ``F``
    fast=...      optional: the same rule on raw arrays only (a speed trick, first order only)
    saves=        what the rule reads: "x" the inputs, "y" the output (or the residual)
    inplace=      optional kernel that overwrites its argument (what fusion after linear uses)
    warns=True    the rule may meet 1/0 on valid input (log, sqrt, pow at 0): the engine keeps NumPy quiet
    test=         the input domain and the PyTorch reference (tests/test_op_table.py runs it)

``F`` is ``ArrayMath`` on the first-order path (raw arrays) and the ``chainrule.ops``
module when ``create_graph=True`` (Tensors, so the backward is recorded).  A rule
returns each gradient in the shape of the *output*'s broadcast if it likes: the
engine sums it down to the input's shape (``sum_to``), never the rule.

Every recorded op goes through ``record`` (the one place a ``Node`` is made); the
public functions are generated per arity by ``unary``, ``binary`` and ``nary``.
"""
from __future__ import annotations

from typing import Any, Callable

from .. import autograd as _ag
from ..backend import xp
from ..errors import ArgumentError, AutogradError, DTypeError, ShapeError

REGISTRY: dict[str, "Op"] = {}
PUBLIC: dict[str, tuple] = {}  # name -> (public function, also a Tensor method?): cr.<name> and x.<name>()


def public(fn: Callable | None = None, *, name: str | None = None, method: bool = True):
    """Export ``fn`` as ``chainrule.<name>`` (and ``chainrule.ops.<name>``), and as a Tensor method
    unless ``method=False``.  The generated recorders export themselves; hand-written public
    functions use this as a decorator."""
    def register(f):
        PUBLIC[name or f.__name__] = (f, method)
        return f

    return register(fn) if fn is not None else register


class Case:
    """How the generated tests exercise an op: inputs to draw and the PyTorch reference.

    ``shapes``  "broadcast" (mutually broadcastable), "same", or a list of fixed shapes;
    ``low``/``high`` the value range, ``away`` a distance kept from 0 (kinks, poles);
    ``call(*tensors)`` the chainrule expression (default: the public function of the op's name);
    ``torch(torch, *tensors)`` the same in PyTorch; ``second`` whether to test second order,
    ``fd`` whether finite differences apply (not across a float32 rounding); ``min_dims`` for
    drawn shapes (an op along the last axis needs one).
    """

    __slots__ = ("arity", "shapes", "low", "high", "away", "call", "torch", "second", "fd", "min_dims")

    def __init__(self, torch: Callable, arity: int = 1, shapes: Any = "broadcast", low: float = -2.0,
                 high: float = 2.0, away: float = 0.0, call: Callable | None = None, second: bool = True,
                 fd: bool = True, min_dims: int = 0) -> None:
        self.torch, self.arity, self.shapes, self.low, self.high = torch, arity, shapes, low, high
        self.away, self.call, self.second, self.fd, self.min_dims = away, call, second, fd, min_dims
        if not isinstance(shapes, str):
            self.arity = len(shapes)


class Op:
    """One row of the table (see the module docstring)."""

    __slots__ = ("name", "fwd", "vjp", "fast", "saves", "saves_y", "saves_any", "residual", "inplace", "test",
                 "fused", "warns")

    def __init__(self, name: str, fwd: Callable, vjp: Callable | None, saves: str = "xy", residual: bool = False,
                 fast: Callable | None = None, inplace: Callable | None = None, test: Case | None = None,
                 warns: bool = False) -> None:
        self.name, self.fwd, self.vjp = name, fwd, vjp
        self.warns = warns  # the rule may divide by 0 on valid input (1/x at 0): NumPy's warnings are kept quiet
        self.fast = fast or vjp  # the first-order rule: the array-only version where one is given
        self.saves = "x" in saves  # the rule reads the inputs
        self.saves_y = "y" in saves or residual  # ... the output, or the residual of a residual op
        self.saves_any = self.saves or self.saves_y  # something for the engine to free after use
        self.residual, self.inplace, self.test = residual, inplace, test
        self.fused = None  # linalg: the "linear then this op" entry, made on first use

    def __repr__(self) -> str:
        return f"Op({self.name})"


def defop(name: str, fwd: Callable, vjp: Callable | None, saves: str = "xy", residual: bool = False,
          fast: Callable | None = None, inplace: Callable | None = None, test: Case | list | None = None,
          warns: bool = False) -> Op:
    """Add a row to the table.  With ``residual=True`` the forward returns ``(output, residual)``
    (JAX's fwd/bwd split) and both rules receive the residual as ``y``; being no function of
    the inputs in the graph, the differentiable rule must recompute from the inputs what it
    differentiates (cross-entropy's softmax, convolution's columns)."""
    if name in REGISTRY:
        raise ValueError(f"op {name!r} is defined twice")
    op = REGISTRY[name] = Op(name, fwd, vjp, saves, residual, fast, inplace, test, warns)
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
    if isinstance(exc, TypeError) and ("dtype" in msg or "cast" in msg or "ufunc" in msg):
        return DTypeError(f"{op.name} on shapes {shapes}: {msg}")
    return ArgumentError(f"{op.name} on shapes {shapes}: {msg}")


def as_tensor(x):
    """``x`` if it is a Tensor, else a new constant Tensor of it (lists, arrays, numbers)."""
    T = _Tensor
    return x if x.__class__ is T or isinstance(x, T) else T.of(x)


def as_value(x, like=None):
    """A non-Tensor operand: Python scalars stay weak (they never upcast float32)."""
    if isinstance(x, xp.generic):  # a NumPy scalar such as np.float64(2.0) (a float subclass): a Python number
        return x.item()
    if isinstance(x, (bool, int, float)):
        return x
    return _Tensor.of(x)


def check_dtypes(name: str, ad, bd):
    """Refuse float32 (or float16) meeting float64; cast integers and bools to the float side."""
    ka, kb = ad.dtype.kind, bd.dtype.kind
    if ka == "f" and kb == "f":
        if ad.dtype.itemsize != bd.dtype.itemsize and (ad.dtype.itemsize == 8 or bd.dtype.itemsize == 8):
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


# ------------------------------------------------------------------ recording
def record(op: Op, parents: tuple, need: tuple, inputs: tuple, xd: tuple, y, kw, shapes: tuple | None = None):
    """The one place a graph node is made: what the rule will read is saved here, and nowhere else.

    ``parents`` one per input (a Node, a leaf Tensor, or None), ``inputs`` the inputs as given
    (Tensors or constants), ``xd`` their raw values, ``y`` the output (or residual).  The saved
    values are freed by the engine after use; ``_ag.saved_at`` stamps the version they were saved at.
    """
    saves = op.saves
    if shapes is None:
        shapes = tuple([getattr(v, "shape", ()) for v in xd])
    return _ag.Node(op, parents, need, shapes,
                    xd if saves else None, inputs if saves else None, y if op.saves_y else None, kw)


def output(op: Op, inputs: tuple, xd: tuple, y, kw=None, res=None):
    """The result Tensor of ``op`` already computed as ``y``, recorded when grad mode is on and
    some Tensor input wants a gradient (``res``: the residual of a residual op)."""
    if y.__class__ is not _ndarray:
        y = xp.asarray(y)
    T = _Tensor
    if not _ag._grad_enabled:
        return T._make(y, None)
    need = tuple([isinstance(x, T) and x._rg for x in inputs])
    if True not in need:
        return T._make(y, None)
    parents = tuple([(x.grad_fn or x) if n else None for x, n in zip(inputs, need)])
    return T._make(y, record(op, parents, need, inputs, xd, res if op.residual else y, kw))


def _run(op: Op, xd: tuple, kw):
    try:
        return op.fwd(*xd, **kw) if kw else op.fwd(*xd)
    except (ValueError, IndexError, TypeError) as e:
        raise op_error(op, e, xd, kw) from None


def apply(op: Op, inputs: tuple, kw: dict | None = None):
    """Apply an op with any number of inputs (Tensors or constants)."""
    return apply_residual(op, inputs, kw)[0] if op.residual else _apply(op, inputs, kw)


def _apply(op: Op, inputs: tuple, kw: dict | None):
    T = _Tensor
    xd = tuple([x._data if isinstance(x, T) else x for x in inputs])
    return output(op, inputs, xd, _run(op, xd, kw), kw)


def apply_residual(op: Op, inputs: tuple, kw: dict | None = None):
    """Apply a residual op and return (output Tensor, residual): for callers that use it too."""
    T = _Tensor
    xd = tuple([x._data if isinstance(x, T) else x for x in inputs])
    y, res = _run(op, xd, kw)
    return output(op, inputs, xd, y, kw, res), res


def apply1(op: Op, x, kw: dict | None = None):
    """Apply a one-input op to a Tensor ``x`` (the recorder every unary op shares)."""
    d = x._data
    try:
        y = op.fwd(d) if kw is None else op.fwd(d, **kw)
    except (ValueError, IndexError, TypeError) as e:
        raise op_error(op, e, (d,), kw) from None
    return output1(op, x, d, y, kw)


def output1(op: Op, x, d, y, kw=None):
    """The result of a one-input op already computed as ``y`` from ``x``'s array ``d``."""
    if y.__class__ is not _ndarray:
        y = xp.asarray(y)
    if x._rg and _ag._grad_enabled:
        return _Tensor._make(y, record(op, (x.grad_fn or x,), _NEED1, (x,), (d,), y, kw, (d.shape,)))
    return _Tensor._make(y, None)


_NEED1 = (True,)


def unary(op: Op, floating: bool = False, method: bool = True):
    """The public function of a one-input op (exported: see ``public``); ``floating`` ops (exp,
    tanh, ...) turn integer input into float32 first, as PyTorch does, never float64."""

    def call(x, *, out=None):
        T = _Tensor
        if x.__class__ is not T and not isinstance(x, T):
            x = T.of(x)
        if floating and x._data.dtype.kind != "f":
            x = x.float()
        return apply1(op, x) if out is None else into(out, apply1(op, x), op.name)

    call.__name__ = call.__qualname__ = op.name
    call.op = op
    return public(call, method=method)


def binary(op: Op, method: bool = True):
    """The public function of a two-input op (exported: see ``public``): one closure, one call deep
    (the hot path of every network), with the op's fields bound once.  Either side may be a
    Python number or array-like."""
    fwd = op.fwd

    def call(a, b, *, out=None):
        T = _Tensor
        if out is not None:
            return into(out, call(a, b), op.name)
        if a.__class__ is not T and not isinstance(a, T) or b.__class__ is not T and not isinstance(b, T):
            return _mixed(op, a, b)
        ad = a._data
        bd = b._data
        if ad.dtype is not bd.dtype:
            ad, bd = check_dtypes(op.name, ad, bd)
        try:
            y = fwd(ad, bd)
        except (ValueError, IndexError, TypeError) as e:
            raise op_error(op, e, (ad, bd), None) from None
        if y.__class__ is not _ndarray:
            y = xp.asarray(y)
        ra = a._rg
        rb = b._rg
        if (ra or rb) and _ag._grad_enabled:
            parents = ((a.grad_fn or a) if ra else None, (b.grad_fn or b) if rb else None)
            return T._make(y, record(op, parents, (ra, rb), (a, b), (ad, bd), y, None, (ad.shape, bd.shape)))
        return T._make(y, None)

    call.__name__ = call.__qualname__ = op.name
    call.op = op
    return public(call, method=method)


def into(out, result, name: str):
    """PyTorch's ``out=``: write ``result`` into the Tensor ``out`` and return ``out``.  Refused where
    PyTorch refuses (a gradient is being recorded) and where it would resize ``out`` (another shape)."""
    T = _Tensor
    if not isinstance(out, T):
        raise TypeError(f"{name}: out= must be a Tensor, got {type(out).__name__}")
    if _ag._grad_enabled and (out._rg or result._rg):
        raise AutogradError(f"{name}(..., out=...): out= does not record a gradient; write "
                                f"`y = {name}(...)` instead (PyTorch refuses this too)")
    if out._data.shape != result._data.shape:
        raise ShapeError(f"{name}: out= has shape {out._data.shape}, the result {result._data.shape} "
                         "(chainrule does not resize out=; pass a tensor of the result's shape)")
    try:
        xp.copyto(out._data, result._data, casting="same_kind")
    except TypeError:
        raise DTypeError(f"{name}: the result ({result._data.dtype}) can't be written into out= of dtype "
                         f"{out._data.dtype}") from None
    _ag.mark_written(out._data)
    return out


def _mixed(op: Op, a, b):
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
    td = t._data
    if td.dtype.kind in "biu" and isinstance(num, float):
        td = td.astype(xp.float32)  # int tensor * 0.5 -> float32 (PyTorch's default), not float64
    xd = (td, num) if ta else (num, td)
    y = _run(op, xd, None)
    if y.__class__ is not _ndarray:
        y = xp.asarray(y)
    if not (t._rg and _ag._grad_enabled):
        return T._make(y, None)
    parent = t.grad_fn or t
    if ta:
        return T._make(y, record(op, (parent, None), _FIRST, (a, b), xd, y, None, (td.shape, ())))
    return T._make(y, record(op, (None, parent), _SECOND, (a, b), xd, y, None, ((), td.shape)))


_FIRST, _SECOND = (True, False), (False, True)


def nary(op: Op, check: Callable | None = None):
    """The public function of an op with a list of Tensor inputs; ``check(*args)`` validates and
    converts the arguments first and returns the inputs to use (leaving out a missing bias)."""
    fwd = op.fwd

    def call(*inputs, **options):
        if check is not None:
            inputs = check(*inputs, **options)
        xd = tuple([x._data for x in inputs])
        try:
            y = fwd(*xd)
        except (ValueError, IndexError, TypeError) as e:
            raise op_error(op, e, xd, None) from None
        if y.__class__ is not _ndarray:
            y = xp.asarray(y)
        if _ag._grad_enabled:
            need = tuple([x._rg for x in inputs])
            if True in need:
                parents = tuple([(x.grad_fn or x) if x._rg else None for x in inputs])
                return _Tensor._make(y, record(op, parents, need, inputs, xd, y, None, tuple([d.shape for d in xd])))
        return _Tensor._make(y, None)

    call.__name__ = call.__qualname__ = op.name
    call.op = op
    return call
