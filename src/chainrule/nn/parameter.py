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
        # to_array shares the memory of a Tensor or an ndarray (it copies only Python data)
        self._adopt(xp.empty((0,), dtype=xp.float32) if data is None else to_array(data), requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (self._data, self._rg))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self._data.copy(), self._rg)
        memo[id(self)] = out
        return out
