"""PyTorch's other spellings of arithmetic and small elementwise compositions: absolute, multiply,
subtract, divide / true_divide / div(rounding_mode=), negative, positive, rsub, float_power, copysign,
deg2rad, rad2deg, sinc, heaviside, sgn, ldexp.  Each is the table ops it names, so its gradient is theirs."""
from __future__ import annotations

import math

from ..backend import xp
from ..errors import ArgumentError
from . import registry
from .elementwise import abs as _abs
from .elementwise import mul, neg, sin, sub, where
from .elementwise import true_divide as _true_div
from .registry import as_tensor, public
from .rounding import floor, trunc

absolute = public(_abs, name="absolute")
negative = public(neg, name="negative")


@public
def multiply(a, b):
    return mul(a, b)


@public
def subtract(a, b, *, alpha: float = 1):
    return sub(a, b if alpha == 1 else mul(b, alpha))


@public
def rsub(a, b, *, alpha: float = 1):
    """b − alpha·a (PyTorch's reversed subtraction)."""
    return sub(b, a if alpha == 1 else mul(a, alpha))


def _both_integers(a, b) -> bool:
    def kind(v):
        return v._data.dtype.kind if isinstance(v, registry._Tensor) else xp.asarray(v).dtype.kind

    return kind(a) in "biu" and kind(b) in "biu"


def divided(a, b, rounding_mode=None):
    """a / b, then rounded toward zero ("trunc") or down ("floor") when asked; integers by integers stay
    integers with a rounding mode (PyTorch); the rounded quotient's gradient is 0, as PyTorch's."""
    if rounding_mode is None:
        return _true_div(a, b)
    if rounding_mode not in ("trunc", "floor"):
        raise ArgumentError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    if _both_integers(a, b):
        ad = a._data if isinstance(a, registry._Tensor) else xp.asarray(a)
        bd = b._data if isinstance(b, registry._Tensor) else xp.asarray(b)
        if xp.any(bd == 0):
            raise ArgumentError(f"div(rounding_mode={rounding_mode!r}): integer division by zero")
        q = xp.floor_divide(ad, bd)
        if rounding_mode == "trunc":  # floor and trunc differ where the signs differ and it is inexact
            q = xp.where((q < 0) & (q * bd != ad), q + 1, q)
        return registry._Tensor._make(xp.asarray(q), None)
    q = _true_div(a, b)
    return floor(q) if rounding_mode == "floor" else trunc(q)


divide = public(divided, name="divide")
public(_true_div, name="true_divide")


@public
def positive(x):
    return as_tensor(x)


@public
def float_power(a, b):
    """a ** b in float64, as PyTorch's float_power (chainrule's one op that asks for float64 by name)."""
    a = as_tensor(a).double()
    if isinstance(b, registry._Tensor):
        b = b.double()
    from .elementwise import pow

    return pow(a, b)


@public
def copysign(a, b):
    """|a| with the sign of b (b's sign bit: -0.0 counts as negative)."""
    a = as_tensor(a)
    if a._data.dtype.kind != "f":
        a = a.float()
    bd = b._data if isinstance(b, registry._Tensor) else xp.asarray(b)
    return where(xp.signbit(bd), neg(_abs(a)), _abs(a))


_DEG = math.pi / 180.0


@public
def deg2rad(x):
    x = as_tensor(x)
    return mul(x if x._data.dtype.kind == "f" else x.float(), _DEG)


@public
def rad2deg(x):
    x = as_tensor(x)
    return mul(x if x._data.dtype.kind == "f" else x.float(), 1.0 / _DEG)


@public
def sinc(x):
    """sin(πx)/(πx), 1 at 0 (its gradient 0 there, not NaN)."""
    x = as_tensor(x)
    if x._data.dtype.kind != "f":
        x = x.float()
    zero = x._data == 0
    px = mul(where(zero, 1.0, x), math.pi)
    return where(zero, 1.0, _true_div(sin(px), px))


@public
def heaviside(x, values):
    """0 where x < 0, ``values`` where x == 0, 1 where x > 0 (no gradient: a step)."""
    xd = as_tensor(x)._data
    vd = values._data if isinstance(values, registry._Tensor) else xp.asarray(values)
    return registry._Tensor._make(xp.asarray(xp.heaviside(xd, vd).astype(xp.result_type(xd, vd))), None)


@public
def sgn(x):
    """The sign, as ``sign`` for real tensors."""
    from .elementwise import sign

    return sign(x)


@public
def ldexp(x, other):
    """x · 2^other."""
    x = as_tensor(x)
    if x._data.dtype.kind != "f":
        x = x.float()
    od = other._data if isinstance(other, registry._Tensor) else xp.asarray(other)
    return mul(x, registry._Tensor._make(xp.exp2(od).astype(x._data.dtype), None))

