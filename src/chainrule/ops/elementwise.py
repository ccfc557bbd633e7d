"""Elementwise ops with NumPy broadcasting; each VJP sits under its forward.

A broadcast input receives the sum of the gradients of every position it was
copied to: the engine does that sum (from the inputs' shapes), so no rule here does.
"""
from __future__ import annotations

import math

from ..backend import xp
from . import registry
from .arraymath import ArrayMath, select_grad
from .registry import Case, apply1, as_tensor, binary, defop, public, unary

# ------------------------------------------------------------------ binary
# Rules give each gradient in the output's (broadcast) shape; the engine sums it to the input's.
ADD = defop("add", xp.add, lambda F, g, x, y, kw, need: (g if need[0] else None, g if need[1] else None),
            saves="", test=Case(lambda t, a, b: a + b, arity=2))
SUB = defop("sub", xp.subtract, lambda F, g, x, y, kw, need: (g if need[0] else None, -g if need[1] else None),
            saves="", test=Case(lambda t, a, b: a - b, arity=2))
MUL = defop("mul", xp.multiply, lambda F, g, x, y, kw, need: (g * x[1] if need[0] else None,
                                                              g * x[0] if need[1] else None),
            saves="x", test=Case(lambda t, a, b: a * b, arity=2))


def _true_divide(a, b):
    """Integer / integer is true division in float32 (PyTorch), not NumPy's float64."""
    y = xp.true_divide(a, b)
    if y.dtype == _F64 and not _is_f64(a) and not _is_f64(b):
        y = y.astype(xp.float32)
    return y


def _is_f64(v) -> bool:
    return isinstance(v, xp.ndarray) and v.dtype == _F64


_F64 = xp.dtype("float64")
DIV = defop("div", _true_divide, lambda F, g, x, y, kw, need: (
    g / x[1] if need[0] else None,
    -g * x[0] / (x[1] * x[1]) if need[1] else None,
), warns=True, saves="x", test=Case(lambda t, a, b: a / b, arity=2, away=0.5))


def _pow_vjp(F, g, x, y, kw, need):
    a, b = x
    ga = gb = None
    if need[0]:
        ga = F.where(b == 0, 0.0, g * b * a ** (b - 1))  # 0 where b == 0 (as PyTorch)
    if need[1] and isinstance(a, (int, float)):  # a number base: log a is a constant, kept weakly typed
        log_a = math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)
        gb = g * y * log_a
    elif need[1]:  # d(a^b)/db = a^b log a, taken as 0 where a == 0 (as PyTorch)
        safe_log = F.log(F.where(a == 0, 1.0, a))
        gb = F.where(a == 0, 0.0, g * y * safe_log)
    return ga, gb


POW = defop("pow", xp.power, _pow_vjp, warns=True, test=Case(lambda t, a, b: a ** b, arity=2, low=0.5, high=2.0))


def _pow_scalar_vjp(F, g, x, y, kw, need):
    p = kw["exponent"]
    if p == 0:
        return (g * 0.0,)
    return (g * p * x[0] ** (p - 1),)


POW_SCALAR = defop("pow_scalar", lambda a, exponent: xp.power(a, exponent), _pow_scalar_vjp, warns=True, saves="x",
                   test=[Case(lambda t, a: a ** 3, call=lambda a: a ** 3),
                         Case(lambda t, a: a ** 2.5, call=lambda a: a ** 2.5, low=0.5)])


def _extreme_vjp(first_wins):
    """maximum/minimum: the winner takes g, ties split it in half (as PyTorch)."""

    def vjp(F, g, x, y, kw, need):
        a, b = x
        win_a = first_wins(a, b)
        tie = a == b
        ga = gb = None
        if need[0]:
            ga = F.where(tie, g * 0.5, F.where(win_a, g, 0.0))
        if need[1]:
            gb = F.where(tie, g * 0.5, F.where(win_a, 0.0, g))
        return ga, gb

    return vjp


MAXIMUM = defop("maximum", xp.maximum, _extreme_vjp(lambda a, b: a > b), saves="x",
                test=Case(lambda t, a, b: t.maximum(a, b), arity=2))
MINIMUM = defop("minimum", xp.minimum, _extreme_vjp(lambda a, b: a < b), saves="x",
                test=Case(lambda t, a, b: t.minimum(a, b), arity=2))


HYPOT = defop("hypot", xp.hypot, lambda F, g, x, y, kw, need: (
    g * x[0] / y if need[0] else None,
    g * x[1] / y if need[1] else None,
), warns=True, saves="xy", test=Case(lambda t, a, b: t.hypot(a, b), arity=2, away=0.3))
hypot = binary(HYPOT)
add = binary(ADD)
sub = binary(SUB)
mul = binary(MUL)
true_divide = binary(DIV)  # what the / operator calls (no keyword to look at)


def div(a, b, *, rounding_mode=None):
    """a / b; with rounding_mode "trunc" or "floor" the quotient rounded (PyTorch's div; ops/aliases.py)."""
    if rounding_mode is None:
        return true_divide(a, b)
    from .aliases import divided

    return divided(a, b, rounding_mode)


def pow(a, b):
    """``a ** b``; a number exponent uses the cheaper one-input rule."""
    if isinstance(b, xp.generic):  # np.float64(2) must not turn a float32 tensor into float64
        b = b.item()
    if isinstance(b, (int, float)) and not isinstance(b, bool) and isinstance(a, _Tensor()):
        if a._data.dtype.kind in "biu" and isinstance(b, float):
            a = a.float()
        return apply1(POW_SCALAR, a, {"exponent": b})
    return _pow2(a, b)


_pow2 = binary(POW)
maximum = binary(MAXIMUM)
minimum = binary(MINIMUM)


# ------------------------------------------------------------------- unary
NEG = defop("neg", xp.negative, lambda F, g, x, y, kw, need: (-g,), saves="", test=Case(lambda t, a: -a))
EXP = defop("exp", xp.exp, lambda F, g, x, y, kw, need: (g * y,), saves="y", test=Case(lambda t, a: a.exp()))
LOG = defop("log", xp.log, lambda F, g, x, y, kw, need: (g / x[0],), warns=True, saves="x",
            test=Case(lambda t, a: a.log(), low=0.5, high=3.0))
SQRT = defop("sqrt", xp.sqrt, lambda F, g, x, y, kw, need: (g / (2.0 * y),), warns=True, saves="y",
             test=Case(lambda t, a: a.sqrt(), low=0.5, high=3.0))
ABS = defop("abs", xp.abs, lambda F, g, x, y, kw, need: (zero_slope(F, g * F.sign(x[0]), x[0]),), saves="x",
            test=Case(lambda t, a: a.abs(), away=0.2))
SIN = defop("sin", xp.sin, lambda F, g, x, y, kw, need: (g * F.cos(x[0]),), saves="x", test=Case(lambda t, a: a.sin()))
COS = defop("cos", xp.cos, lambda F, g, x, y, kw, need: (-g * F.sin(x[0]),), saves="x",
            test=Case(lambda t, a: a.cos()))
TANH = defop("tanh", xp.tanh, lambda F, g, x, y, kw, need: (g * (1.0 - y * y),), saves="y",
             inplace=lambda a: xp.tanh(a, out=a), test=Case(lambda t, a: a.tanh()))


def _sigmoid_fwd(x, out=None):
    """1 / (1 + e^-x) in one buffer (``out``, which may be ``x``).  e^-x may overflow to inf for
    x < -88 (float32), which gives exactly 0, the right limit; the overflow is expected, so not
    warned about."""
    t = xp.negative(x, out=xp.empty_like(x) if out is None else out)
    with xp.errstate(over="ignore"):
        xp.exp(t, out=t)
    t += 1.0
    return xp.reciprocal(t, out=t)


SIGMOID = defop("sigmoid", _sigmoid_fwd, lambda F, g, x, y, kw, need: (g * y * (1.0 - y),), saves="y",
                inplace=lambda a: _sigmoid_fwd(a, out=a), test=Case(lambda t, a: a.sigmoid()))
def _zero_slope_vjp(F, g, x, y, kw, need):
    d = x[1]._data if isinstance(x[1], _Tensor()) else x[1]
    zeros = xp.zeros(d.shape, dtype=d.dtype)
    return (g if need[0] else None, (zeros if d is x[1] else _Tensor()._make(zeros, None)) if need[1] else None)


ZERO_SLOPE = defop("zero_slope", lambda grad, of: grad, _zero_slope_vjp, saves="x",
                   test=Case(lambda t, a, b: a + 0.0 * b, arity=2, shapes="same",
                             call=lambda a, b: registry.apply(ZERO_SLOPE, (a, b))))


def zero_slope(F, grad, of):
    """``grad``, recorded as a function of ``of`` with derivative 0, in a Tensor rule (create_graph): a
    piecewise-linear op's gradient is constant in its input, yet PyTorch keeps it in the graph for
    relu, leaky_relu, abs and max_pool2d, so a gradient penalty over them is zeros there, not an error."""
    return grad if F is ArrayMath else F.run(ZERO_SLOPE, (grad, of))


# ReLU selects (an inf/NaN gradient at an inactive unit gives 0, as PyTorch), never multiplies by its mask;
# on arrays through select_grad, as fast as the multiply.  The Tensor rule's where lets g's gradient flow.
RELU = defop("relu", lambda x: xp.maximum(x, 0),
             lambda F, g, x, y, kw, need: (zero_slope(F, F.where(y > 0, g, 0.0), y),), saves="y",
             fast=lambda F, g, x, y, kw, need: (select_grad(y > 0, g),),
             inplace=lambda a: xp.maximum(a, 0, out=a), test=Case(lambda t, a: a.relu(), away=0.2))


LOG1P = defop("log1p", xp.log1p, lambda F, g, x, y, kw, need: (g / (1.0 + x[0]),), warns=True, saves="x",
              test=Case(lambda t, a: a.log1p(), low=-0.5, high=2.0))
log1p = unary(LOG1P, floating=True)


_LN10, _LN2 = math.log(10.0), math.log(2.0)
LOG10 = defop("log10", xp.log10, lambda F, g, x, y, kw, need: (g / (x[0] * _LN10),), warns=True, saves="x",
              test=Case(lambda t, a: a.log10(), low=0.5, high=3.0))
log10 = unary(LOG10, floating=True)
LOG2 = defop("log2", xp.log2, lambda F, g, x, y, kw, need: (g / (x[0] * _LN2),), warns=True, saves="x",
             test=Case(lambda t, a: a.log2(), low=0.5, high=3.0))
log2 = unary(LOG2, floating=True)
EXPM1 = defop("expm1", xp.expm1, lambda F, g, x, y, kw, need: (g * (y + 1.0),), saves="y",
              test=Case(lambda t, a: a.expm1()))
expm1 = unary(EXPM1, floating=True)


def _clip_vjp(F, g, x, y, kw, need):
    lo, hi = kw["min"], kw["max"]
    inside = None
    if lo is not None:
        inside = x[0] >= lo
    if hi is not None:
        inside = (x[0] <= hi) if inside is None else inside & (x[0] <= hi)
    return (g if inside is None else F.where(inside, g, 0.0),)


CLIP = defop("clip", lambda x, min, max: xp.clip(x, min, max), _clip_vjp, saves="x",
             test=Case(lambda t, a: a.clamp(-0.5, 0.7), call=lambda a: clip(a, -0.5, 0.7)))


neg = unary(NEG)
abs = unary(ABS)
relu = unary(RELU)
exp = unary(EXP, floating=True)
log = unary(LOG, floating=True)
sqrt = unary(SQRT, floating=True)
sin = unary(SIN, floating=True)
cos = unary(COS, floating=True)
tanh = unary(TANH, floating=True)
sigmoid = unary(SIGMOID, floating=True)


def clip(x, min=None, max=None):
    """Limit values to [min, max]; the gradient passes where x was inside."""
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    min, max = _scalar(min), _scalar(max)
    if x._data.dtype.kind in "biu" and (isinstance(min, float) or isinstance(max, float)):
        x = x.float()  # an integer tensor clipped to 0.5 is float32 (PyTorch), not float64
    return apply1(CLIP, x, {"min": min, "max": max})


clamp = clip
public(clip)
public(clamp, name="clamp")


@public
def clamp_min(x, min):
    return clip(x, min, None)


@public
def clamp_max(x, max):
    return clip(x, None, max)


def _scalar(v):
    """A bound as a Python number (NumPy and 0-d Tensor bounds too), so it never upcasts."""
    return v.item() if hasattr(v, "item") else v


def _float(x):
    """Functions such as exp of an integer tensor give float32 (PyTorch), not float64."""
    if x.__class__ is not registry._Tensor:
        x = as_tensor(x)
    if x._data.dtype.kind != "f":
        return x.float()
    return x


# ------------------------------------------------------------------ select
def _where_vjp(F, g, x, y, kw, need):
    """Select, never multiply: the untaken branch gets exact zeros even if g is inf/NaN."""
    cond, a, b = x
    return (None, F.where(cond, g, 0.0) if need[1] else None, F.where(cond, 0.0, g) if need[2] else None)


WHERE = defop("where", xp.where, _where_vjp, saves="x",
              test=Case(lambda t, a, b: t.where(a > 0, a, b), arity=2, away=0.1, call=lambda a, b: where(a > 0, a, b)))


def where(cond, a=None, b=None):
    """Elementwise ``a if cond else b`` with broadcasting; ``where(cond)`` alone is ``nonzero(cond, as_tuple=True)``."""
    from .registry import apply, as_value, check_dtypes

    if a is None and b is None:
        from .torchnames import nonzero

        return nonzero(cond, as_tuple=True)
    T = _Tensor()
    cond = cond if isinstance(cond, T) else T(xp.asarray(cond, dtype=bool))
    if cond._data.dtype != xp.bool_:
        cond = T._make(cond._data.astype(bool), None)
    a = a if isinstance(a, T) else as_value(a)
    b = b if isinstance(b, T) else as_value(b)
    if not isinstance(a, T) and not isinstance(b, T):
        a = T.of(a)  # two numbers: a Python float gives float32, as PyTorch (NumPy would give float64)
    if isinstance(a, float) and b._data.dtype.kind in "biu":
        b = b.float()
    if isinstance(b, float) and a._data.dtype.kind in "biu":
        a = a.float()
    if isinstance(a, T) and isinstance(b, T) and a._data.dtype != b._data.dtype:
        ad, bd = check_dtypes("where", a._data, b._data)
        if ad is not a._data:
            a = a.to(ad.dtype)
        if bd is not b._data:
            b = b.to(bd.dtype)
    return apply(WHERE, (cond, a, b))


# ------------------------------------------------------- comparisons (no grad)
def _compare(ufunc):
    def cmp(a, b):
        T = _Tensor()
        ad = a._data if isinstance(a, T) else a
        bd = b._data if isinstance(b, T) else b
        try:
            return T._make(xp.asarray(ufunc(ad, bd)), None)
        except (ValueError, TypeError) as e:
            from .registry import op_error

            raise op_error(_CmpOp(ufunc.__name__), e, (ad, bd), None) from None

    cmp.__name__ = ufunc.__name__
    return cmp


class _CmpOp:
    def __init__(self, name: str) -> None:
        self.name = name


eq = public(_compare(xp.equal), name="eq")  # the names said: the ufuncs' own ("equal", "less") are other functions
ne = public(_compare(xp.not_equal), name="ne")
lt = public(_compare(xp.less), name="lt")
le = public(_compare(xp.less_equal), name="le")
gt = public(_compare(xp.greater), name="gt")
ge = public(_compare(xp.greater_equal), name="ge")
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne
for _name in ("greater", "less", "greater_equal", "less_equal", "not_equal"):
    public(globals()[_name], name=_name)


@public
def isclose(a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """|a − b| ≤ atol + rtol·|b|, elementwise (PyTorch's isclose; no gradient)."""
    T = _Tensor()
    return T._make(xp.asarray(xp.isclose(_raw(a), _raw(b), rtol=rtol, atol=atol, equal_nan=equal_nan)), None)


@public
def allclose(a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    return bool(xp.allclose(_raw(a), _raw(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


@public
def equal(a, b) -> bool:
    """Same shape and the same values (PyTorch's torch.equal)."""
    a, b = _raw(a), _raw(b)
    return a.shape == b.shape and bool((a == b).all())


def _raw(v):
    return v._data if isinstance(v, _Tensor()) else xp.asarray(v)


def sign(x):
    """-1, 0 or 1 (no gradient: it is zero almost everywhere); NaN gives 0, as PyTorch (NumPy: NaN)."""
    T = _Tensor()
    d = xp.sign(x._data if isinstance(x, T) else x)
    return T._make(xp.where(d != d, 0, d).astype(d.dtype, copy=False) if d.dtype.kind == "f" else d, None)


def _erf(x):
    """erf to ~1.2e-7 relative error (Numerical Recipes' erfc), NumPy having none; float64 gets libm's
    exact erf (elementwise in Python, slower), so float64 GELU agrees with PyTorch's to rounding."""
    if x.dtype == xp.float64 and hasattr(xp, "frompyfunc"):
        return xp.asarray(_erf64(x), dtype=xp.float64)
    z = xp.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    r = 1.0 - t * xp.exp(poly)
    return xp.where(x >= 0, r, -r)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _gelu_fwd(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1.0 + xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
    return (0.5 * x * (1.0 + _erf(x * 0.7071067811865476))).astype(x.dtype, copy=False)


def _gelu_vjp(F, g, x, y, kw, need):
    x = x[0]
    if kw["approximate"] == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)
        t = F.tanh(inner)
        d = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
        return (g * d,)
    cdf = F.gelu_cdf(x)
    pdf = F.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return (g * (cdf + x * pdf),)


_erf64 = xp.frompyfunc(math.erf, 1, 1) if hasattr(xp, "frompyfunc") else None
GELU = defop("gelu", _gelu_fwd, _gelu_vjp, saves="x", test=[
    Case(lambda t, a: t.nn.functional.gelu(a), call=lambda a: gelu(a)),
    Case(lambda t, a: t.nn.functional.gelu(a, approximate="tanh"), call=lambda a: gelu(a, "tanh"))])
GELU_CDF = defop("gelu_cdf", lambda x: (0.5 * (1.0 + _erf(x * 0.7071067811865476))).astype(x.dtype, copy=False),
                 lambda F, g, x, y, kw, need: (g * F.exp(-0.5 * x[0] * x[0]) * _INV_SQRT_2PI,), saves="x",
                 test=Case(lambda t, a: 0.5 * (1.0 + t.erf(a * 0.7071067811865476))))


def gelu(x, approximate: str = "none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', not {approximate!r}")
    return apply1(GELU, _float(x), {"approximate": approximate})


def gelu_cdf(x):
    """Φ(x), the standard normal CDF (GELU's gate)."""
    return apply1(GELU_CDF, x)


def _Tensor():
    return registry._Tensor


