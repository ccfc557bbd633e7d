"""Activation layers: thin modules over the functional forms."""
from __future__ import annotations

from .. import arguments as arg
from .. import functional as F
from ..ops.softmax import log_softmax, softmax
from ..tensor import Tensor
from .module import Module


class ReLU(Module):
    op = F.relu.op  # the table entry: Sequential fuses it after a Linear (it has an in-place kernel)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class Sigmoid(Module):
    op = F.sigmoid.op

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    op = F.tanh.op

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class GELU(Module):
    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', not {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = arg.number("LeakyReLU", "negative_slope", negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


def _softmax_dim(ndim: int) -> int:
    """PyTorch's choice when no dim is given (legacy behaviour)."""
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = None if dim is None else arg.integer(type(self).__name__, "dim", dim)

    def forward(self, x: Tensor) -> Tensor:
        return softmax(x, self.dim if self.dim is not None else _softmax_dim(x.ndim))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x: Tensor) -> Tensor:
        return log_softmax(x, self.dim if self.dim is not None else _softmax_dim(x.ndim))
