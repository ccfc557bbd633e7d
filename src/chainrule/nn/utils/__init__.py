"""Gradient and parameter utilities (PyTorch's ``torch.nn.utils``): clipping, flattening to one vector."""
from __future__ import annotations

import math
from typing import Iterable

from ... import arguments as arg
from ...backend import xp
from ...errors import AutogradError, ShapeError
from ...tensor import Tensor


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients so their joint norm is at most ``max_norm``; return the norm before clipping.

    The gradients are replaced, not scaled in place: two parameters' ``.grad``
    may share one array, which an in-place scale would shrink twice.
    """
    max_norm = arg.number("clip_grad_norm_", "max_norm", max_norm, 0.0)
    if norm_type not in (float("inf"), float("-inf")):
        arg.number("clip_grad_norm_", "norm_type", norm_type)
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p for p in params if p.grad is not None]
    if not grads:
        return Tensor._make(xp.asarray(0.0, dtype=xp.float32), None)
    norm_type = float(norm_type)
    dtype = grads[0].grad._data.dtype
    if math.isinf(norm_type):
        total = max(float(xp.abs(p.grad._data).max()) if p.grad._data.size else 0.0 for p in grads)
    else:
        acc = 0.0
        for p in grads:
            g = p.grad._data.reshape(-1)
            acc += float(xp.dot(g, g)) if norm_type == 2.0 else float((xp.abs(g) ** norm_type).sum())
        total = acc ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise AutogradError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is non-finite ({total}), "
            "so it cannot be clipped; pass error_if_nonfinite=False to clip anyway"
        )
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    for p in grads:
        g = p.grad._data
        p.grad = Tensor._make(g * coef, None) if g.dtype.kind == "f" else p.grad
    return Tensor._make(xp.asarray(total, dtype=dtype), None)


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient value into [−clip_value, clip_value] (out of place, as above)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if p.grad is not None:
            p.grad = Tensor._make(xp.clip(p.grad._data, -clip_value, clip_value), None)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-d tensor, in order (no gradient)."""
    return Tensor._make(xp.concatenate([p._data.reshape(-1) for p in parameters]), None)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """The inverse of ``parameters_to_vector``: copy consecutive slices of ``vec`` into the parameters in place."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    params = list(parameters)
    need = sum(p._data.size for p in params)
    if vec._data.ndim != 1 or vec._data.size < need:
        raise ShapeError(f"vector_to_parameters: the parameters hold {need} values, but vec has shape "
                         f"{vec._data.shape}")
    i = 0
    for p in params:
        n = p._data.size
        p._data[...] = vec._data[i:i + n].reshape(p._data.shape)
        i += n


from . import rnn  # noqa: E402,F401 - torch.nn.utils.rnn
from .weight_norm import remove_weight_norm, weight_norm  # noqa: E402,F401
