"""Parameter: a Tensor that a Module registers as a weight to train."""
from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor, to_array


class Parameter(Tensor):
    """A leaf Tensor that requires grad; assigning one to a Module registers it.

    Like ``torch.nn.Parameter``, wrapping a Tensor or an array shares its memory.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        if data is None:
            arr = xp.empty((0,), dtype=xp.float32)
        elif isinstance(data, Tensor):
            arr = data.data
        elif isinstance(data, xp.ndarray):
            arr = data
        else:
            arr = to_array(data)
        self.data = arr
        self.grad = None
        self.grad_fn = None
        self._rg = False
        self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.data, self._rg))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self.data.copy(), self._rg)
        memo[id(self)] = out
        return out
