"""Activation layers: thin modules over the functional forms."""
from __future__ import annotations

from .. import arguments as arg
from .. import functional as F
from ..creation import empty
from ..ops.softmax import log_softmax, softmax
from ..tensor import Tensor
from . import functional_activations as NF
from .module import Module, _check_device, layer_input
from .parameter import Parameter


class ReLU(Module):
    op = F.relu.op  # the table entry: Sequential fuses it after a Linear (it has an in-place kernel)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace  # accepted and printed; the result is returned, never aliased

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


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


# ------------------------------------------------ the rest of torch.nn's activation layers (nn-sweep)
def _inplace_repr(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class _Simple(Module):
    """An activation without options; ``inplace`` is accepted and the result returned (never aliased)."""

    fn = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return type(self).fn(layer_input(x, type(self).__name__))

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class SiLU(_Simple):
    fn = staticmethod(NF.silu)


class Mish(_Simple):
    fn = staticmethod(NF.mish)


class SELU(_Simple):
    fn = staticmethod(NF.selu)


class Hardswish(_Simple):
    fn = staticmethod(NF.hardswish)


class Hardsigmoid(_Simple):
    fn = staticmethod(NF.hardsigmoid)


class Softsign(Module):
    def forward(self, x: Tensor) -> Tensor:
        return NF.softsign(layer_input(x, "Softsign"))


class Tanhshrink(Module):
    def forward(self, x: Tensor) -> Tensor:
        return NF.tanhshrink(layer_input(x, "Tanhshrink"))


class LogSigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return NF.logsigmoid(layer_input(x, "LogSigmoid"))


class ELU(Module):
    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        arg.number(type(self).__name__, "alpha", alpha)
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Tensor) -> Tensor:
        return NF.elu(layer_input(x, "ELU"), self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    def forward(self, x: Tensor) -> Tensor:
        return NF.celu(layer_input(x, "CELU"), self.alpha)


class Softplus(Module):
    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        arg.number("Softplus", "beta", beta)
        arg.number("Softplus", "threshold", threshold)
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return NF.softplus(layer_input(x, "Softplus"), self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        lo, hi = arg.number(name, "min_val", min_val), arg.number(name, "max_val", max_val)
        if lo > hi:
            raise arg.ArgumentError(f"{type(self).__name__}: min_val {min_val} must not be greater than "
                                    f"max_val {max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x: Tensor) -> Tensor:
        return NF.hardtanh(layer_input(x, type(self).__name__), self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Threshold(Module):
    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        arg.number("Threshold", "threshold", threshold)
        arg.number("Threshold", "value", value)
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x: Tensor) -> Tensor:
        return NF.threshold(layer_input(x, "Threshold"), self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """x where x > 0, else a·x; ``weight`` holds one learnt slope (or one per channel), initialised to ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        _check_device(device)
        self.num_parameters = arg.integer("PReLU", "num_parameters", num_parameters, 1)
        self.init = arg.number("PReLU", "init", init)
        self.weight = Parameter(empty(self.num_parameters, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.weight._data[...] = self.init

    def forward(self, x: Tensor) -> Tensor:
        return NF.prelu(layer_input(x, "PReLU"), self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = arg.integer("GLU", "dim", dim)

    def forward(self, x: Tensor) -> Tensor:
        return NF.glu(layer_input(x, "GLU"), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
