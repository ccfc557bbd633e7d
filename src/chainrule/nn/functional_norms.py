"""group_norm and instance_norm, composed of table ops (mean, subtraction, a power): gradients for free."""
from __future__ import annotations

from ..backend import xp
from ..errors import ShapeError
from ..tensor import Tensor

__all__ = ["group_norm", "instance_norm"]


def _standardize(x: Tensor, axes: tuple, eps: float) -> Tensor:
    """(x − mean) / √(biased var + eps) over ``axes``."""
    centred = x - x.mean(axis=axes, keepdims=True)
    return centred * ((centred * centred).mean(axis=axes, keepdims=True) + eps) ** -0.5


def _affine(y: Tensor, weight, bias, c: int, op: str) -> Tensor:
    shape = (1, c) + (1,) * (y._data.ndim - 2)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._data.shape != (c,):
            raise ShapeError(f"{op}: {name} must have shape ({c},) (one per channel), got {tuple(t._data.shape)}")
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _floating(x, weight, op: str) -> Tensor:
    from .functional import _match_dtype

    x = x if isinstance(x, Tensor) else Tensor.of(x)
    if weight is None and x._data.dtype.kind != "f":
        x = x.float()
    return _match_dtype(x, weight, op)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each sample over each group of C/num_groups channels (and all spatial positions)."""
    x = _floating(input, weight, "group_norm")
    d = x._data
    if d.ndim < 2:
        raise ShapeError(f"group_norm: expects input of shape (N, C, ...), got {tuple(d.shape)}")
    n, c = d.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise ShapeError(f"group_norm: {c} channels (axis 1 of {tuple(d.shape)}) cannot be split into "
                         f"num_groups={num_groups} equal groups")
    y = _standardize(x.reshape(n, num_groups, -1), (2,), eps).reshape(d.shape)
    return _affine(y, weight, bias, c, "group_norm")


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each (sample, channel) over its spatial positions.  With running statistics, training
    updates them with the batch average of the per-instance mean and unbiased variance (PyTorch's rule);
    ``use_input_stats=False`` normalises by them instead."""
    x = _floating(input, weight, "instance_norm")
    d = x._data
    if d.ndim < 3:
        raise ShapeError(f"instance_norm: expects input of shape (N, C, L) or (N, C, H, W), got {tuple(d.shape)}")
    c = d.shape[1]
    axes = tuple(range(2, d.ndim))
    if use_input_stats:
        y = _standardize(x, axes, eps)
        count = d[0, 0].size
        if running_mean is not None and running_var is not None:
            if running_mean._data.shape != (c,) or running_var._data.shape != (c,):
                raise ShapeError(f"instance_norm: running_mean/running_var must have shape ({c},)")
            mean = d.mean(axis=axes)
            var = d.var(axis=axes) * (count / max(count - 1, 1))
            running_mean._data *= 1.0 - momentum
            running_mean._data += (momentum * mean.mean(0)).astype(running_mean._data.dtype, copy=False)
            running_var._data *= 1.0 - momentum
            running_var._data += (momentum * var.mean(0)).astype(running_var._data.dtype, copy=False)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        shape = (1, c) + (1,) * len(axes)
        m = Tensor._make(running_mean._data.reshape(shape).astype(d.dtype, copy=False), None)
        v = Tensor._make(xp.asarray(running_var._data.reshape(shape) + eps, dtype=d.dtype), None)
        y = (x - m) * v ** -0.5
    return _affine(y, weight, bias, c, "instance_norm")
