"""Activation primitives beyond the core set: leaky ReLU."""
from __future__ import annotations

from ..backend import xp
from .registry import defop


def _leaky_fwd(x, slope):
    return xp.where(x > 0, x, x * slope)


LEAKY_RELU = defop("leaky_relu", _leaky_fwd,
                   lambda F, g, x, y, kw, need: (F.where(x[0] > 0, g, g * kw["slope"]),), saves="x")
