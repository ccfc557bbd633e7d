"""Random draws shaped like a tensor (no gradient): ``bernoulli`` and the values behind PyTorch's
in-place fills ``bernoulli_``, ``exponential_``, ``random_``, ``geometric_``, ``cauchy_``,
``log_normal_``.  Every draw comes from ``random.generator(generator)``."""
from __future__ import annotations

from ..backend import xp
from ..errors import ArgumentError, DTypeError
from . import registry
from .registry import as_tensor, public


def _gen(generator):
    from .. import random

    return random.generator(generator)


def _const(arr):
    return registry._Tensor._make(arr, None)


@public
def bernoulli(input, p=None, *, generator=None):
    """1 with probability ``input`` (or ``p`` for every entry), else 0: in input's shape and dtype."""
    x = as_tensor(input)
    d = x._data
    if d.dtype.kind != "f":
        raise DTypeError(f"bernoulli: needs floating-point probabilities, got {d.dtype} (use .float())")
    probs = d if p is None else xp.full(d.shape, float(p))
    if probs.size and not ((probs >= 0) & (probs <= 1)).all():
        raise ValueError(f"bernoulli: probabilities must lie in [0, 1], got values {probs.min()}..{probs.max()}")
    return _const((_gen(generator).random(d.shape) < probs).astype(d.dtype))


def bernoulli_values(t, p=0.5, *, generator=None):
    """What ``t.bernoulli_(p)`` writes: p a number or a tensor of probabilities broadcast to t."""
    probs = p._data if isinstance(p, registry._Tensor) else p
    probs = xp.broadcast_to(xp.asarray(probs, dtype=xp.float64), t._data.shape)
    if probs.size and not ((probs >= 0) & (probs <= 1)).all():
        raise ValueError(f"bernoulli_: p must lie in [0, 1], got {p}")
    return (_gen(generator).random(t._data.shape) < probs).astype(t._data.dtype)


def _numbers(op: str, **values) -> None:
    """The distribution's parameters are plain numbers (PyTorch's in-place fills take no tensors)."""
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, xp.integer, xp.floating)) or v != v:
            raise ArgumentError(f"{op}: {name} must be a number, got {v!r}")


def _floating(t, op: str):
    if t._data.dtype.kind != "f":
        raise DTypeError(f"{op}: fills floating-point tensors only, this one is {t._data.dtype}")
    return t._data.dtype


def exponential_values(t, lambd: float = 1.0, *, generator=None):
    _numbers("exponential_", lambd=lambd)
    if not lambd > 0:
        raise ValueError(f"exponential_: lambd must be positive, got {lambd}")
    dtype = _floating(t, "exponential_")
    return (_gen(generator).exponential(1.0 / lambd, t._data.shape)).astype(dtype)


def geometric_values(t, p: float, *, generator=None):
    _numbers("geometric_", p=p)
    if not 0 < p <= 1:
        raise ValueError(f"geometric_: p must lie in (0, 1], got {p}")
    return _gen(generator).geometric(p, t._data.shape).astype(t._data.dtype)


def cauchy_values(t, median: float = 0.0, sigma: float = 1.0, *, generator=None):
    _numbers("cauchy_", median=median, sigma=sigma)
    dtype = _floating(t, "cauchy_")
    return (median + sigma * _gen(generator).standard_cauchy(t._data.shape)).astype(dtype)


def log_normal_values(t, mean: float = 1.0, std: float = 2.0, *, generator=None):
    _numbers("log_normal_", mean=mean, std=std)
    dtype = _floating(t, "log_normal_")
    if not std > 0:
        raise ValueError(f"log_normal_: std must be positive, got {std}")
    return _gen(generator).lognormal(mean, std, t._data.shape).astype(dtype)


_TOP = {"float16": 2 ** 11, "float32": 2 ** 24, "float64": 2 ** 53, "bool": 2}


def random_values(t, from_=0, to=None, *, generator=None):
    """What ``t.random_(from, to)`` writes: integers in [from, to); ``random_(to)`` is [0, to); with no
    bound, [0, 2^mantissa] for floats and [0, max] for integers (PyTorch's ranges)."""
    _numbers("random_", **{"from": from_}, **({} if to is None else {"to": to}))
    dtype = t._data.dtype
    if to is None and from_ != 0:
        from_, to = 0, from_
    if to is None:
        to = _TOP.get(dtype.name, None)
        to = (to + 1 if dtype.kind == "f" else to) if to else int(xp.iinfo(dtype).max) + 1
    if not to > from_:
        raise ValueError(f"random_: expects from < to, got from={from_}, to={to}")
    if dtype.kind in "iu" and (from_ < xp.iinfo(dtype).min or to - 1 > xp.iinfo(dtype).max):
        raise ValueError(f"random_: [{from_}, {to}) does not fit a {dtype} tensor")
    return _gen(generator).integers(from_, to, size=t._data.shape).astype(dtype)
