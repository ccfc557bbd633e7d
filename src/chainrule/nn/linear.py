"""Linear: y = x Wᵀ + b with PyTorch's weight layout (out, in) and default initialisation."""
from __future__ import annotations

import math

from .. import arguments as arg
from .. import layout
from ..creation import empty
from ..ops.linalg import linear
from ..tensor import Tensor
from . import init
from .module import Module, _check_device, layer_input
from .parameter import Parameter


class Linear(Module):
    """A fully connected layer: one fused op, so one node per layer in the graph."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        _check_device(device)
        self.in_features = arg.integer("Linear", "in_features", in_features, 0)
        self.out_features = arg.integer("Linear", "out_features", out_features, 0)
        self.weight = Parameter(layout.weight(empty(out_features, in_features, dtype=dtype)._data))  # see layout.py
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """kaiming_uniform_(a=√5) for the weight, U(±1/√fan_in) for the bias, as PyTorch."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return linear(layer_input(x, "Linear"), self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input (a placeholder layer)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, x):
        return x
