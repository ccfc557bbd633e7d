"""Conv2d: NCHW input, weight (out, in/groups, kh, kw), PyTorch's default initialisation."""
from __future__ import annotations

import math

from .. import arguments as arg
from ..creation import empty
from ..errors import ShapeError
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, _check_device, layer_input
from .parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__()
        _check_device(device)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {_PADDING_MODES}, not {padding_mode!r}")
        self.padding_mode = padding_mode
        in_channels = arg.integer("Conv2d", "in_channels", in_channels, 1)
        out_channels = arg.integer("Conv2d", "out_channels", out_channels, 1)
        groups = arg.integer("Conv2d", "groups", groups, 1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: in_channels {in_channels} and out_channels {out_channels} must be "
                             f"divisible by groups {groups}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = arg.pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = arg.pair("Conv2d", "stride", stride, 1)
        self.padding = padding if isinstance(padding, str) else arg.pair("Conv2d", "padding", padding, 0)
        self.dilation = arg.pair("Conv2d", "dilation", dilation, 1)
        self.groups = groups
        self.weight = Parameter(empty(out_channels, in_channels // groups, *self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        x = layer_input(x, "Conv2d")
        padding = self.padding
        if self.padding_mode != "zeros":  # pad by the mode first, then convolve without padding
            if isinstance(padding, str):
                total = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)] if padding == "same" else [0, 0]
                widths = (total[1] // 2, total[1] - total[1] // 2, total[0] // 2, total[0] - total[0] // 2)
            else:
                widths = (padding[1], padding[1], padding[0], padding[0])
            x, padding = F.pad(x, widths, self.padding_mode), 0
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


# ------------------------------------------------ Conv1d and the transposed convolutions (nn-sweep)
def _tuple(owner: str, name: str, value, n: int, minimum: int) -> tuple:
    items = (value,) * n if arg._is_int(value) else value
    if not isinstance(items, (tuple, list)) or len(items) != n:
        raise arg.ArgumentError(f"{owner}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(arg.integer(owner, name, v, minimum) for v in items)


class _ConvNd(Module):
    """What Conv1d, ConvTranspose1d and ConvTranspose2d share: checked geometry, weight and bias, PyTorch's
    initialisation (kaiming_uniform_(a=√5), bias U(±1/√fan_in)) and repr."""

    transposed = False
    dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None,
                 output_padding=0) -> None:
        super().__init__()
        _check_device(device)
        name, n = type(self).__name__, self.dims
        in_channels = arg.integer(name, "in_channels", in_channels, 1)
        out_channels = arg.integer(name, "out_channels", out_channels, 1)
        groups = arg.integer(name, "groups", groups, 1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels {in_channels} and out_channels {out_channels} must be "
                             f"divisible by groups {groups}")
        if padding_mode not in _PADDING_MODES or (self.transposed and padding_mode != "zeros"):
            allowed = "'zeros'" if self.transposed else ", ".join(map(repr, _PADDING_MODES))
            raise ValueError(f"{name}: padding_mode must be {allowed}, not {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups, self.padding_mode = in_channels, out_channels, groups, \
            padding_mode
        self.kernel_size = _tuple(name, "kernel_size", kernel_size, n, 1)
        self.stride = _tuple(name, "stride", stride, n, 1)
        if isinstance(padding, str):
            if self.transposed or padding not in ("same", "valid"):
                kinds = "an int or a tuple" if self.transposed else "an int, a tuple, 'valid' or 'same'"
                raise ValueError(f"{name}: padding must be {kinds}, not {padding!r}")
            if padding == "same" and self.stride != (1,) * n:
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _tuple(name, "padding", padding, n, 0)
        self.dilation = _tuple(name, "dilation", dilation, n, 1)
        self.output_padding = _tuple(name, "output_padding", output_padding, n, 0)
        if any(p >= max(s, d) for p, s, d in zip(self.output_padding, self.stride, self.dilation)):
            raise ValueError(f"{name}: output_padding {self.output_padding} must be smaller than either stride "
                             f"{self.stride} or dilation {self.dilation}")
        shape = ((in_channels, out_channels // groups) if self.transposed else
                 (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    reset_parameters = Conv2d.reset_parameters

    def extra_repr(self) -> str:
        n = self.dims
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """Over (N, C, L): weight (out, in/groups, k)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        x = layer_input(x, "Conv1d")
        padding = self.padding
        if self.padding_mode != "zeros":
            if padding == "same":
                total = self.dilation[0] * (self.kernel_size[0] - 1)
                lo, hi = total // 2, total - total // 2
            else:
                lo = hi = 0 if padding == "valid" else padding[0]
            x, padding = F.pad(x, (lo, hi), self.padding_mode), 0
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class ConvTranspose1d(_ConvNd):
    """Over (N, C, L): weight (in, out/groups, k); conv1d's adjoint."""

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, output_padding)

    def forward(self, x: Tensor, output_size=None) -> Tensor:
        return F.conv_transpose1d(layer_input(x, type(self).__name__), self.weight, self.bias, self.stride,
                                  self.padding, self._output_padding(x, output_size), self.groups, self.dilation)

    def _output_padding(self, x, output_size) -> tuple:
        """PyTorch's ``output_size=``: the output_padding that gives that size (checked to be reachable)."""
        if output_size is None:
            return self.output_padding
        n = self.dims
        want = tuple(output_size)[-n:]
        spatial = tuple(x.shape)[-n:]
        pads = []
        for a in range(n):
            smallest = ((spatial[a] - 1) * self.stride[a] - 2 * self.padding[a]
                        + self.dilation[a] * (self.kernel_size[a] - 1) + 1)
            extra = want[a] - smallest
            if not 0 <= extra < max(self.stride[a], self.dilation[a]):
                raise ShapeError(f"{type(self).__name__}: requested output_size {tuple(output_size)} is not "
                                 f"reachable from input {tuple(x.shape)} (axis {a}: between {smallest} and "
                                 f"{smallest + max(self.stride[a], self.dilation[a]) - 1})")
            pads.append(extra)
        return tuple(pads)


class ConvTranspose2d(ConvTranspose1d):
    """Over (N, C, H, W): weight (in, out/groups, kh, kw); conv2d's adjoint (DCGAN's generator layer)."""

    dims = 2

    def forward(self, x: Tensor, output_size=None) -> Tensor:
        return F.conv_transpose2d(layer_input(x, type(self).__name__), self.weight, self.bias, self.stride,
                                  self.padding, self._output_padding(x, output_size), self.groups, self.dilation)
