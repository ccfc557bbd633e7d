"""BatchNorm1d/2d (with running statistics and ``num_batches_tracked``) and LayerNorm."""
from __future__ import annotations

from .. import arguments as arg
from ..backend import xp
from ..creation import ones, zeros
from ..errors import ShapeError
from ..tensor import Tensor
from . import functional as F
from .module import Module, _check_device, layer_input
from .parameter import Parameter


def _affine_parameters(module: Module, shape, affine: bool, bias: bool, dtype) -> None:
    """The learnt scale (ones) and shift (zeros) of a normalisation layer, or None in their places."""
    if not affine:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)
        return
    module.weight = Parameter(ones(shape, dtype=dtype))
    if bias:
        module.bias = Parameter(zeros(shape, dtype=dtype))
    else:
        module.register_parameter("bias", None)


class _BatchNorm(Module):
    _dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        _check_device(device)
        name = type(self).__name__
        num_features = arg.integer(name, "num_features", num_features, 1)
        eps = arg.number(name, "eps", eps, 0.0)
        momentum = None if momentum is None else arg.number(name, "momentum", momentum, 0.0, 1.0)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine_parameters(self, num_features, affine, bias, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", Tensor._make(xp.zeros((), dtype=xp.int64), None))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        x = layer_input(x, type(self).__name__)
        if x._data.ndim not in self._dims:
            raise ShapeError(f"{type(self).__name__}: expected {' or '.join(f'{d}D' for d in self._dims)} input, "
                             f"got shape {x._data.shape}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if self.momentum is None:  # a cumulative average
                factor = 1.0 / float(self.num_batches_tracked._data)
        batch_stats = self.training or self.running_mean is None
        use_running = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if use_running else None, self.running_var if use_running else None,
                            self.weight, self.bias, batch_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L): statistics per feature C."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W): statistics per channel C."""

    _dims = (4,)


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        _check_device(device)
        shape = (normalized_shape,) if not isinstance(normalized_shape, (tuple, list)) else normalized_shape
        ns = tuple(arg.integer("LayerNorm", "normalized_shape", n, 1) for n in shape)
        eps = arg.number("LayerNorm", "eps", eps, 0.0)
        self.normalized_shape, self.eps, self.elementwise_affine = ns, eps, elementwise_affine
        _affine_parameters(self, ns, elementwise_affine, bias, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(layer_input(x, "LayerNorm"), self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


# ------------------------------------------------ GroupNorm and InstanceNorm (nn-sweep)
class GroupNorm(Module):
    """Normalise each sample over groups of channels; per-channel weight (ones) and bias (zeros)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        _check_device(device)
        self.num_groups = arg.integer("GroupNorm", "num_groups", num_groups, 1)
        self.num_channels = arg.integer("GroupNorm", "num_channels", num_channels, 1)
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels {num_channels} must be divisible by num_groups {num_groups}")
        self.eps, self.affine = arg.number("GroupNorm", "eps", eps, 0.0), affine
        _affine_parameters(self, num_channels, affine, bias, dtype)

    def forward(self, x: Tensor) -> Tensor:
        from .functional_norms import group_norm

        x = layer_input(x, "GroupNorm")
        if x._data.ndim < 2 or x._data.shape[1] != self.num_channels:
            raise ShapeError(f"GroupNorm: expected input of shape (N, {self.num_channels}, ...), got "
                             f"{tuple(x._data.shape)}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    """Per-(sample, channel) statistics; no affine transform and no running statistics by default."""

    _dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        from .functional_norms import instance_norm

        name = type(self).__name__
        x = layer_input(x, name)
        batched, unbatched = self._dims
        if x._data.ndim not in self._dims:
            raise ShapeError(f"{name}: expected {unbatched}D (unbatched) or {batched}D input, got shape "
                             f"{tuple(x._data.shape)}")
        channel_axis = 0 if x._data.ndim == unbatched else 1
        if x._data.shape[channel_axis] != self.num_features and (self.affine or self.track_running_stats):
            raise ShapeError(f"{name}: expected input's size at dim={channel_axis} to match num_features "
                             f"({self.num_features}), but got: {x._data.shape[channel_axis]}")
        if x._data.ndim == unbatched:
            return self.forward(x.unsqueeze(0))[0]
        use_input_stats = self.training or not self.track_running_stats  # (PyTorch never counts num_batches_tracked)
        return instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats,
                             self.momentum if self.momentum is not None else 0.1, self.eps)


class InstanceNorm1d(_InstanceNorm):
    """Over (N, C, L) or (C, L)."""

    _dims = (3, 2)


class InstanceNorm2d(_InstanceNorm):
    """Over (N, C, H, W) or (C, H, W)."""

    _dims = (4, 3)


class LocalResponseNorm(Module):
    """AlexNet's normalisation across ``size`` neighbouring channels."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = arg.integer("LocalResponseNorm", "size", size, 1)
        self.alpha, self.beta, self.k = alpha, beta, k

    def forward(self, x: Tensor) -> Tensor:
        from .functional_sampling import local_response_norm

        return local_response_norm(layer_input(x, "LocalResponseNorm"), self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
