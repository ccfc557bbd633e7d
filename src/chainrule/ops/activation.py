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
