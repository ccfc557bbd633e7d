"""Rounding and remainders (PyTorch's floor, ceil, round, trunc, frac, fmod, remainder).

floor/ceil/round/trunc are steps: their gradient is exact zeros (PyTorch's), not None, so a
straight-through estimator such as ``(x.round() - x).detach() + x`` works as written."""
from __future__ import annotations

from ..backend import xp
from ..errors import ArgumentError, DTypeError
from . import registry
from .registry import Case, apply1, as_tensor, binary, defop, public


def zeros_for(F, g):
    """Zeros in g's shape and dtype (exact, even where g is inf or NaN), on either path."""
    return F.where(xp.zeros(tuple(g.shape), dtype=bool), g, 0.0)


def _step(name: str, fwd, test: Case):
    return defop(name, fwd, lambda F, g, x, y, kw, need: (zeros_for(F, g),), saves="", test=test)


FLOOR = _step("floor", xp.floor, Case(lambda t, a: a.floor(), call=lambda a: floor(a)))
CEIL = _step("ceil", xp.ceil, Case(lambda t, a: a.ceil(), call=lambda a: ceil(a)))
TRUNC = _step("trunc", xp.trunc, Case(lambda t, a: a.trunc(), call=lambda a: trunc(a)))
ROUND = _step("round", lambda x, decimals: _round(x, decimals), [
    Case(lambda t, a: a.round(), call=lambda a: round(a)),
    Case(lambda t, a: a.round(decimals=1), call=lambda a: round(a, decimals=1))])
FRAC = defop("frac", lambda x: x - xp.trunc(x), lambda F, g, x, y, kw, need: (g,), saves="",
             test=Case(lambda t, a: a.frac(), call=lambda a: frac(a)))


def _round(x, decimals: int):
    """Half to even, as PyTorch; with decimals, rint(x·10^d)/10^d (PyTorch's formula, so ties agree)."""
    if decimals == 0:
        return xp.rint(x)
    if decimals > 0:
        scale = x.dtype.type(10.0 ** decimals)
        return xp.rint(x * scale) / scale
    scale = x.dtype.type(10.0 ** -decimals)
    return xp.rint(x / scale) * scale


def _stepped(op, x, name: str, kw=None):
    x = as_tensor(x)
    kind = x._data.dtype.kind
    if kind == "b":
        raise DTypeError(f"{name}: not defined for a bool tensor (PyTorch refuses it too); convert it first (.float())")
    if kind in "iu":  # an integer is already whole: a copy, in its dtype (PyTorch)
        if kw and kw.get("decimals"):
            raise DTypeError(f"{name}(decimals={kw['decimals']}): needs a floating-point tensor, got "
                             f"{x._data.dtype} (PyTorch refuses it too); use .float() first")
        return x.__class__._make(x._data.copy(), None)
    return apply1(op, x, kw)


@public
def floor(x):
    """The largest whole number ≤ x (integers are returned as they are)."""
    return _stepped(FLOOR, x, "floor")


@public
def ceil(x):
    """The smallest whole number ≥ x."""
    return _stepped(CEIL, x, "ceil")


@public
def trunc(x):
    """x rounded toward zero."""
    return _stepped(TRUNC, x, "trunc")


fix = public(trunc, name="fix")


@public
def round(x, decimals: int = 0):
    """x rounded half to even (2.5 -> 2, as PyTorch), to ``decimals`` places (negative: tens, hundreds...)."""
    return _stepped(ROUND, x, "round", {"decimals": int(decimals)})


@public
def frac(x):
    """x − trunc(x): the fractional part, with x's sign (gradient 1)."""
    x = as_tensor(x)
    if x._data.dtype.kind != "f":
        raise DTypeError(f"frac: needs a floating-point tensor, got {x._data.dtype} (PyTorch refuses it too)")
    return apply1(FRAC, x)


# ------------------------------------------------------------------ remainders
def _integer_divisor_checked(name: str, fn):
    def fwd(a, b):
        if xp.asarray(a).dtype.kind in "iu" and xp.asarray(b).dtype.kind in "iu" and xp.any(xp.asarray(b) == 0):
            raise ArgumentError(f"{name}: integer division by zero (the divisor holds 0); PyTorch raises too")
        return fn(a, b)

    return fwd


def _remainder_vjp(quotient):
    """d/da = 1; d/db = -q(a/b), q the quotient's rounding (trunc for fmod, floor for remainder)."""

    def vjp(F, g, x, y, kw, need):
        a, b = x
        gb = None
        if need[1]:  # the quotient is a step: a constant on either path
            bd = raw(b)
            gb = -g * quotient(raw(a) / bd).astype(bd.dtype, copy=False)
        return (g if need[0] else None, gb)

    return vjp


FMOD = defop("fmod", _integer_divisor_checked("fmod", xp.fmod), _remainder_vjp(xp.trunc), saves="x",
             test=Case(lambda t, a, b: t.fmod(a, b), call=lambda a, b: fmod(a, b), arity=2, away=0.3))
REMAINDER = defop("remainder", _integer_divisor_checked("remainder", xp.remainder), _remainder_vjp(xp.floor),
                  saves="x", test=Case(lambda t, a, b: t.remainder(a, b), call=lambda a, b: remainder(a, b),
                                       arity=2, away=0.3))
fmod = binary(FMOD)
fmod.__doc__ = "C's fmod: a − trunc(a/b)·b, the sign of a (PyTorch's fmod)."
remainder = binary(REMAINDER)
remainder.__doc__ = "Python's %: a − floor(a/b)·b, the sign of b (PyTorch's remainder)."


def raw(v):
    """A rule's operand as an array (it is a Tensor on the create_graph path)."""
    return v._data if isinstance(v, registry._Tensor) else xp.asarray(v)
