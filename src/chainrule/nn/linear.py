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


class Bilinear(Module):
    """y = x1ᵀ W x2 + b with weight (out, in1, in2); weight and bias ~ U(±1/√in1), as PyTorch."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        _check_device(device)
        self.in1_features = arg.integer("Bilinear", "in1_features", in1_features, 1)
        self.in2_features = arg.integer("Bilinear", "in2_features", in2_features, 1)
        self.out_features = arg.integer("Bilinear", "out_features", out_features, 1)
        self.weight = Parameter(empty(out_features, in1_features, in2_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        from .functional import bilinear

        return bilinear(layer_input(input1, "Bilinear"), layer_input(input2, "Bilinear"), self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
