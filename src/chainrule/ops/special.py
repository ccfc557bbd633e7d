"""Special functions and NaN-aware elementwise ops: erf, erfinv, exp2, logaddexp(2), logit, xlogy,
nan_to_num, fmax/fmin (PyTorch's names, forms and gradients)."""
from __future__ import annotations

import math

from ..backend import xp
from ..errors import DTypeError
from . import registry
from .elementwise import _erf
from .registry import Case, apply1, as_tensor, binary, defop, public, unary
from .trig import float_result

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_LN2 = math.log(2.0)

ERF = defop("erf", _erf, lambda F, g, x, y, kw, need: (g * _TWO_OVER_SQRT_PI * F.exp(-x[0] * x[0]),), saves="x",
            test=Case(lambda t, a: a.erf()))
erf = unary(ERF, floating=True)


@public
def erfc(x):
    """1 − erf(x)."""
    return 1.0 - erf(x)


def _erfinv(x):
    """Mike Giles' approximation ("Approximating the erfinv function", GPU Computing Gems, 2011) as a
    start, then two Newton steps on libm's erf in float64: exact to rounding in float32 and float64."""
    with xp.errstate(all="ignore"):  # ±1 and beyond are handled by the last where
        return _erfinv_inside(x)


def _erfinv_inside(x):
    d = x.astype(xp.float64)
    inside = xp.abs(d) < 1
    z = xp.where(inside, d, 0.0)
    w = -xp.log((1.0 - z) * (1.0 + z))
    c = w - 2.5
    p = 2.81022636e-08
    for k in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164,
              0.246640727, 1.50140941):
        p = k + p * c
    c = xp.sqrt(w) - 3.0
    q = -0.000200214257
    for k in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
              1.00167406, 2.83297682):
        q = k + q * c
    y = xp.where(w < 5.0, p, q) * z
    for _ in range(2):
        y = y - (_erf(y) - z) / (_TWO_OVER_SQRT_PI * xp.exp(-y * y))
    y = xp.where(inside, y, xp.where(xp.abs(d) == 1, xp.sign(d) * xp.inf, xp.nan))
    return y.astype(x.dtype)


ERFINV = defop("erfinv", _erfinv, lambda F, g, x, y, kw, need: (g / _TWO_OVER_SQRT_PI * F.exp(y * y),), saves="y",
               test=Case(lambda t, a: a.erfinv(), low=-0.95, high=0.95))
erfinv = unary(ERFINV, floating=True)

EXP2 = defop("exp2", xp.exp2, lambda F, g, x, y, kw, need: (g * y * _LN2,), saves="y",
             test=Case(lambda t, a: a.exp2()))
exp2 = unary(EXP2, floating=True)


def _floats_only(name: str, fn):
    def fwd(a, b):
        if all(xp.asarray(v).dtype.kind in "biu" for v in (a, b)):
            raise DTypeError(f"{name}: needs a floating-point dtype, not integers (PyTorch refuses them too); "
                             "use .float()")
        return fn(a, b)

    return fwd


LOGADDEXP = defop("logaddexp", _floats_only("logaddexp", xp.logaddexp), lambda F, g, x, y, kw, need: (
    g * F.exp(x[0] - y) if need[0] else None, g * F.exp(x[1] - y) if need[1] else None), saves="xy",
    test=Case(lambda t, a, b: t.logaddexp(a, b), arity=2))
LOGADDEXP2 = defop("logaddexp2", _floats_only("logaddexp2", xp.logaddexp2), lambda F, g, x, y, kw, need: (
    g * F.exp((x[0] - y) * _LN2) if need[0] else None, g * F.exp((x[1] - y) * _LN2) if need[1] else None),
    saves="xy", test=Case(lambda t, a, b: t.logaddexp2(a, b), arity=2))
logaddexp = binary(LOGADDEXP)
logaddexp2 = binary(LOGADDEXP2)


def _logit_fwd(x, eps):
    z = x if eps is None else xp.clip(x, eps, 1.0 - eps)
    return xp.log(z / (1.0 - z))


def _logit_vjp(F, g, x, y, kw, need):
    x, eps = x[0], kw["eps"]
    d = g / (x * (1.0 - x))
    if eps is None:
        return (d,)
    return (F.where((x < eps) | (x > 1.0 - eps), 0.0, d),)  # clamped values have slope 0 (PyTorch)


LOGIT = defop("logit", _logit_fwd, _logit_vjp, saves="x", warns=True, test=[
    Case(lambda t, a: a.logit(), call=lambda a: logit(a), low=0.1, high=0.9),
    Case(lambda t, a: a.logit(eps=0.2), call=lambda a: logit(a, eps=0.2), low=0.05, high=0.95, fd=False)])


@public
def logit(x, eps: float | None = None):
    """log(x / (1 − x)), x first clamped to [eps, 1 − eps] when ``eps`` is given."""
    x = as_tensor(x)
    if x._data.dtype.kind != "f":
        x = x.float()
    return apply1(LOGIT, x, {"eps": None if eps is None else float(eps)})


def _xlogy_fwd(a, b):
    """a·log(b), 0 where a == 0 (even where b is 0), NaN where b is NaN (PyTorch's xlogy)."""
    with xp.errstate(all="ignore"):  # log 0 and log of a negative are selected away or are PyTorch's too
        y = xp.where(xp.asarray(a) == 0, 0.0, a * xp.log(b))
    return xp.where(xp.isnan(b), xp.nan, y).astype(y.dtype, copy=False)


def _xlogy_vjp(F, g, x, y, kw, need):
    a, b = x
    ga = gb = None
    if need[0]:  # 0 where a == 0 and b <= 0 (PyTorch): log b is taken of 1 there, so no NaN leaks into g
        skip = (_raw(a) == 0) & (_raw(b) <= 0)
        ga = F.where(skip, 0.0, g * F.log(F.where(skip, 1.0, b)))
    if need[1]:
        gb = g * a / b
    return ga, gb


XLOGY = defop("xlogy", float_result(_xlogy_fwd), _xlogy_vjp, saves="x", warns=True,
              test=Case(lambda t, a, b: t.xlogy(a, b), arity=2, low=0.5, high=2.0))
xlogy = binary(XLOGY)


def _nan_to_num_fwd(x, nan, posinf, neginf):
    return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


NAN_TO_NUM = defop("nan_to_num", _nan_to_num_fwd,
                   lambda F, g, x, y, kw, need: (F.where(xp.isfinite(_raw(x[0])), g, 0.0),), saves="x",
                   test=Case(lambda t, a: a.nan_to_num(), call=lambda a: nan_to_num(a)))


def _raw(v):
    return v._data if isinstance(v, registry._Tensor) else xp.asarray(v)


@public
def nan_to_num(x, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None):
    """NaN, +inf and -inf replaced (by 0 and the dtype's largest and smallest values unless given);
    the gradient flows where x was finite, 0 elsewhere."""
    x = as_tensor(x)
    if x._data.dtype.kind != "f":
        return x.__class__._make(x._data.copy(), None)
    return apply1(NAN_TO_NUM, x, {"nan": float(nan), "posinf": posinf, "neginf": neginf})


def _nan_max_vjp(first_wins):
    """fmax/fmin: the first operand takes g where it wins or ties or the other is NaN (PyTorch's rule:
    ties are not split, unlike maximum)."""

    def vjp(F, g, x, y, kw, need):
        a, b = x
        first = first_wins(_raw(a), _raw(b)) | xp.isnan(_raw(b))
        return (F.where(first, g, 0.0) if need[0] else None, F.where(first, 0.0, g) if need[1] else None)

    return vjp


FMAX = defop("fmax", xp.fmax, _nan_max_vjp(lambda a, b: a >= b), saves="x",
             test=Case(lambda t, a, b: t.fmax(a, b), arity=2))
FMIN = defop("fmin", xp.fmin, _nan_max_vjp(lambda a, b: a <= b), saves="x",
             test=Case(lambda t, a, b: t.fmin(a, b), arity=2))
fmax = binary(FMAX)
fmin = binary(FMIN)
