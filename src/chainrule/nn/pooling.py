"""Pooling layers over (N, C, H, W)."""
from __future__ import annotations

from .. import arguments as arg
from ..tensor import Tensor
from . import functional as F
from .module import Module


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        _window("MaxPool2d", kernel_size, stride, padding)  # checked; kept as given (repr shows them so)
        arg.pair("MaxPool2d", "dilation", dilation, 1)
        self.kernel_size, self.stride = kernel_size, stride or kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Tensor):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        _window("AvgPool2d", kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _window(layer: str, kernel_size, stride, padding) -> tuple:
    """Check kernel, stride (default: the kernel) and padding (at most half the kernel), as pairs."""
    k = arg.pair(layer, "kernel_size", kernel_size, 1)
    s = k if stride is None else arg.pair(layer, "stride", stride, 1)
    p = arg.pair(layer, "padding", padding, 0)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise arg.ArgumentError(f"{layer}: padding {p} must be at most half the kernel size {k}")
    return k, s, p


# ------------------------------------------------ 1-D and adaptive pooling (nn-sweep)
class MaxPool1d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        k = arg.integer("MaxPool1d", "kernel_size", kernel_size, 1)
        arg.integer("MaxPool1d", "stride", k if stride is None else stride, 1)
        if arg.integer("MaxPool1d", "padding", padding, 0) > k // 2:
            raise arg.ArgumentError(f"MaxPool1d: padding {padding} must be at most half the kernel size {k}")
        arg.integer("MaxPool1d", "dilation", dilation, 1)
        self.kernel_size, self.stride = kernel_size, stride or kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Tensor):
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    extra_repr = MaxPool2d.extra_repr


class AvgPool1d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        k = arg.integer("AvgPool1d", "kernel_size", kernel_size, 1)
        s = k if stride is None else arg.integer("AvgPool1d", "stride", stride, 1)
        p = arg.integer("AvgPool1d", "padding", padding, 0)
        if p > k // 2:
            raise arg.ArgumentError(f"AvgPool1d: padding {padding} must be at most half the kernel size {k}")
        self.kernel_size, self.stride, self.padding = (k,), (s,), (p,)  # PyTorch keeps 1-tuples here
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    fn = None
    dims = 2

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        items = output_size if isinstance(output_size, (tuple, list)) else (output_size,)
        if isinstance(output_size, (tuple, list)) and len(items) != self.dims:
            raise arg.ArgumentError(f"{name}: output_size must be an int or a tuple of {self.dims}, got "
                                    f"{output_size!r}")
        for v in items:
            if v is not None:
                arg.integer(name, "output_size", v, 1)
        if return_indices:
            raise NotImplementedError(f"{name}: return_indices=True is not supported")
        self.output_size = tuple(output_size) if isinstance(output_size, list) else output_size
        self.return_indices = return_indices

    def forward(self, x: Tensor) -> Tensor:
        return type(self).fn(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptivePool):
    """The mean over PyTorch's adaptive windows; AdaptiveAvgPool2d(1) is global average pooling."""

    fn = staticmethod(F.adaptive_avg_pool2d)

    def __init__(self, output_size) -> None:
        super().__init__(output_size)


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    fn = staticmethod(F.adaptive_avg_pool1d)
    dims = 1


class AdaptiveMaxPool2d(_AdaptivePool):
    fn = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool1d(_AdaptivePool):
    fn = staticmethod(F.adaptive_max_pool1d)
    dims = 1
