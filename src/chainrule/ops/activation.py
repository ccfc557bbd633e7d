"""Activation primitives beyond the core set: leaky ReLU."""
from __future__ import annotations

from ..backend import xp
from .elementwise import zero_slope
from .registry import Case, defop


def _leaky_fwd(x, slope):
    return xp.where(x > 0, x, x * slope)


LEAKY_RELU = defop("leaky_relu", _leaky_fwd,
                   lambda F, g, x, y, kw, need: (zero_slope(F, F.where(x[0] > 0, g, g * kw["slope"]), x[0]),),
                   saves="x",
                   test=Case(lambda t, a: t.nn.functional.leaky_relu(a, 0.1), call=lambda a: _leaky(a), away=0.2))


def _leaky(a):
    from ..functional import leaky_relu

    return leaky_relu(a, 0.1)


# ------------------------------------------------ the rest of torch.nn's activations (nn-sweep)
def _elu_fwd(x, alpha, scale, input_scale):
    """scale·(x if x > 0 else α·(e^(x·input_scale) − 1)): ELU, SELU and CELU are this one entry."""
    neg = xp.expm1(xp.minimum(x, 0) * input_scale) * alpha  # the minimum keeps e^x of large x from overflowing
    return xp.where(x > 0, x, neg) * scale


def _elu_vjp(F, g, x, y, kw, need):
    s, a, i = kw["scale"], kw["alpha"], kw["input_scale"]
    return (F.where(x[0] > 0, g * s, g * (s * a * i) * F.exp(F.minimum(x[0], 0.0) * i)),)


ELU = defop("elu", _elu_fwd, _elu_vjp, saves="x", test=[
    Case(lambda t, a: t.nn.functional.elu(a, 0.7), call=lambda a: _nnf().elu(a, 0.7), away=0.1),
    Case(lambda t, a: t.nn.functional.selu(a), call=lambda a: _nnf().selu(a), away=0.1),
    Case(lambda t, a: t.nn.functional.celu(a, 1.5), call=lambda a: _nnf().celu(a, 1.5), away=0.1)])


def _softplus_fwd(x, beta, threshold):
    """log(1 + e^(βx))/β, linear above the threshold (PyTorch's); logaddexp never overflows."""
    return xp.where(x * beta > threshold, x, xp.logaddexp(0, x * beta) / beta).astype(x.dtype, copy=False)


SOFTPLUS = defop("softplus", _softplus_fwd, lambda F, g, x, y, kw, need: (
    F.where(x[0] * kw["beta"] > kw["threshold"], g, g * F.sigmoid(x[0] * kw["beta"])),), saves="x", test=[
    Case(lambda t, a: t.nn.functional.softplus(a), call=lambda a: _nnf().softplus(a)),
    Case(lambda t, a: t.nn.functional.softplus(a, 2.0, 1.0), call=lambda a: _nnf().softplus(a, 2.0, 1.0),
         away=0.1)])


def _silu_fwd(x):
    from .elementwise import _sigmoid_fwd

    return x * _sigmoid_fwd(x)


def _silu_vjp(F, g, x, y, kw, need):
    s = F.sigmoid(x[0])
    return (g * s * (1.0 + x[0] * (1.0 - s)),)


SILU = defop("silu", _silu_fwd, _silu_vjp, saves="x",
             test=Case(lambda t, a: t.nn.functional.silu(a), call=lambda a: _nnf().silu(a)))


def _hardtanh_vjp(F, g, x, y, kw, need):
    """The gradient passes strictly inside (min, max), as PyTorch's hardtanh_backward: relu6(0) has slope 0."""
    return (F.where(x[0] > kw["min_val"], F.where(x[0] < kw["max_val"], g, 0.0), 0.0),)


HARDTANH = defop("hardtanh", lambda x, min_val, max_val: xp.clip(x, min_val, max_val), _hardtanh_vjp, saves="x",
                 test=[Case(lambda t, a: t.nn.functional.hardtanh(a, -0.5, 0.8),
                            call=lambda a: _nnf().hardtanh(a, -0.5, 0.8)),
                       Case(lambda t, a: t.nn.functional.relu6(a * 4), call=lambda a: _nnf().relu6(a * 4), away=0.1)])


def _logsigmoid_fwd(x):
    return (-xp.logaddexp(0, -x)).astype(x.dtype, copy=False)


LOGSIGMOID = defop("logsigmoid", _logsigmoid_fwd, lambda F, g, x, y, kw, need: (g * F.sigmoid(-x[0]),), saves="x",
                   test=Case(lambda t, a: t.nn.functional.logsigmoid(a * 10), call=lambda a: _nnf().logsigmoid(a * 10)))


def _nnf():
    from ..nn import functional

    return functional
