"""Trigonometric and hyperbolic functions beyond sin/cos/tanh (PyTorch's tan, asin, acos, atan,
atan2, asinh, acosh, atanh); integers give float32, as PyTorch."""
from __future__ import annotations

from ..backend import xp
from .registry import Case, binary, defop, public, unary

TAN = defop("tan", xp.tan, lambda F, g, x, y, kw, need: (g * (1.0 + y * y),), saves="y",
            test=Case(lambda t, a: a.tan(), low=-1.2, high=1.2))
ASIN = defop("asin", xp.arcsin, lambda F, g, x, y, kw, need: (g / F.sqrt(1.0 - x[0] * x[0]),), saves="x",
             warns=True, test=Case(lambda t, a: a.asin(), low=-0.9, high=0.9))
ACOS = defop("acos", xp.arccos, lambda F, g, x, y, kw, need: (-g / F.sqrt(1.0 - x[0] * x[0]),), saves="x",
             warns=True, test=Case(lambda t, a: a.acos(), low=-0.9, high=0.9))
ATAN = defop("atan", xp.arctan, lambda F, g, x, y, kw, need: (g / (1.0 + x[0] * x[0]),), saves="x",
             test=Case(lambda t, a: a.atan()))
ASINH = defop("asinh", xp.arcsinh, lambda F, g, x, y, kw, need: (g / F.sqrt(x[0] * x[0] + 1.0),), saves="x",
              test=Case(lambda t, a: a.asinh()))
ACOSH = defop("acosh", xp.arccosh, lambda F, g, x, y, kw, need: (g / F.sqrt(x[0] * x[0] - 1.0),), saves="x",
              warns=True, test=Case(lambda t, a: a.acosh(), low=1.2, high=3.0))
ATANH = defop("atanh", xp.arctanh, lambda F, g, x, y, kw, need: (g / (1.0 - x[0] * x[0]),), saves="x",
              warns=True, test=Case(lambda t, a: a.atanh(), low=-0.9, high=0.9))

tan = unary(TAN, floating=True)
asin = unary(ASIN, floating=True)
acos = unary(ACOS, floating=True)
atan = unary(ATAN, floating=True)
asinh = unary(ASINH, floating=True)
acosh = unary(ACOSH, floating=True)
atanh = unary(ATANH, floating=True)
for _alias, _fn in (("arcsin", asin), ("arccos", acos), ("arctan", atan), ("arcsinh", asinh),
                    ("arccosh", acosh), ("arctanh", atanh)):
    public(_fn, name=_alias)


def float_result(fn):
    """A binary forward whose integer operands give float32 (PyTorch), never NumPy's float64."""
    f64 = xp.dtype("float64")

    def fwd(a, b):
        y = fn(a, b)
        if y.dtype == f64 and not any(isinstance(v, xp.ndarray) and v.dtype == f64 for v in (a, b)):
            y = y.astype(xp.float32)
        return y

    fwd.__name__ = fn.__name__
    return fwd


def _atan2_vjp(F, g, x, y, kw, need):
    a, b = x
    r2 = a * a + b * b
    return (g * b / r2 if need[0] else None, -g * a / r2 if need[1] else None)


ATAN2 = defop("atan2", float_result(xp.arctan2), _atan2_vjp, saves="x", warns=True,
              test=Case(lambda t, a, b: t.atan2(a, b), arity=2, away=0.3))
atan2 = binary(ATAN2)
public(atan2, name="arctan2")
