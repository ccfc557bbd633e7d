"""``F.elu``, ``F.silu``, ``F.softplus``, ... : PyTorch's activations beyond relu/sigmoid/tanh/gelu.

The smooth ones with a fiddly gradient are table entries (ops/activation.py);
the others are short compositions of table ops, so their gradients need no rule.
"""
from __future__ import annotations

from .. import arguments as arg
from ..backend import xp
from ..errors import ShapeError
from ..ops.activation import ELU, HARDTANH, LOGSIGMOID, SILU, SOFTPLUS
from ..ops.elementwise import _float, abs, sigmoid, tanh, where
from ..ops.registry import apply1
from ..ops.softmax import softmax
from ..tensor import Tensor

__all__ = ["celu", "elu", "glu", "gumbel_softmax", "hardsigmoid", "hardswish", "hardtanh", "logsigmoid", "mish",
           "prelu", "relu6", "selu", "silu", "softplus", "softsign", "tanhshrink", "threshold"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _elu(x, alpha: float, scale: float, input_scale: float) -> Tensor:
    return apply1(ELU, _float(x), {"alpha": alpha, "scale": scale, "input_scale": input_scale})


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _elu(input, arg.number("elu", "alpha", alpha), 1.0, 1.0)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    alpha = arg.number("celu", "alpha", alpha)
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides the input)")
    return _elu(input, alpha, 1.0, 1.0 / alpha)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    beta = arg.number("softplus", "beta", beta)
    if beta == 0:
        raise ValueError("softplus: beta must not be 0 (it divides the result)")
    return apply1(SOFTPLUS, _float(input), {"beta": beta, "threshold": arg.number("softplus", "threshold", threshold)})


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return apply1(SILU, _float(input))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x))."""
    x = _float(input)
    return x * tanh(softplus(x))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    lo, hi = arg.number("hardtanh", "min_val", min_val), arg.number("hardtanh", "max_val", max_val)
    if lo > hi:
        raise ValueError(f"hardtanh: min_val {min_val} must not be greater than max_val {max_val}")
    return apply1(HARDTANH, _float(input), {"min_val": lo, "max_val": hi})


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3)/6."""
    return hardtanh(_float(input) + 3.0, 0.0, 6.0) / 6.0


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·relu6(x + 3)/6."""
    x = _float(input)
    return x * hardsigmoid(x)


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x) without overflow for large |x|."""
    return apply1(LOGSIGMOID, _float(input))


def softsign(input: Tensor) -> Tensor:
    x = _float(input)
    return x / (abs(x) + 1.0)


def tanhshrink(input: Tensor) -> Tensor:
    x = _float(input)
    return x - tanh(x)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``."""
    x = input if isinstance(input, Tensor) else Tensor.of(input)
    return where(x > threshold, x, float(value) if x._data.dtype.kind == "f" else value)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, else a·x with one slope per channel (axis 1) or one for all."""
    x = _float(input)
    a = weight._data
    if a.ndim != 1:
        raise ShapeError(f"prelu: weight must be 1-D (one slope, or one per channel), got shape {a.shape}")
    if a.size != 1:
        channels = x._data.shape[1] if x._data.ndim >= 2 else (x._data.shape[0] if x._data.ndim == 1 else 1)
        if a.size != channels:
            raise ShapeError(f"prelu: weight has {a.size} slopes but input of shape {x._data.shape} has "
                             f"{channels} channels (axis 1)")
        if x._data.ndim >= 2:
            weight = weight.reshape((a.size,) + (1,) * (x._data.ndim - 2))
    return where(x > 0, x, weight * x)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a·σ(b) for the two halves a, b of ``input`` along ``dim``."""
    x = _float(input)
    n = x._data.shape[dim] if x._data.ndim else 0
    if n % 2:
        raise ShapeError(f"glu: dimension {dim} of input {x._data.shape} must have an even size, got {n}")
    a, b = x.chunk(2, dim)
    return a * sigmoid(b)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1,
                   *, generator=None) -> Tensor:
    """softmax((logits + Gumbel noise)/τ); ``hard`` gives one-hot samples whose gradient is the soft one's
    (the straight-through estimator)."""
    from .. import random

    tau = arg.number("gumbel_softmax", "tau", tau, 0.0, lo_open=True)
    x = _float(logits)
    d = x._data
    noise = -xp.log(random.generator(generator).exponential(size=d.shape))  # Gumbel(0, 1), as PyTorch draws it
    y = softmax((x + Tensor._make(noise.astype(d.dtype), None)) / tau, dim)
    if not hard:
        return y
    idx = xp.argmax(y._data, axis=dim)
    one = xp.zeros_like(y._data)
    xp.put_along_axis(one, xp.expand_dims(idx, dim), 1.0, axis=dim)
    return Tensor._make(one, None) - y.detach() + y

