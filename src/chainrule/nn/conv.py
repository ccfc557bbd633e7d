"""Conv2d: NCHW input, weight (out, in/groups, kh, kw), PyTorch's default initialisation."""
from __future__ import annotations

import math

from .. import arguments as arg
from ..creation import empty
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, _check_device, layer_input
from .parameter import Parameter


class Conv2d(Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__()
        _check_device(device)
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: only padding_mode='zeros' is supported, not {padding_mode!r}")
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
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

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
        return s
