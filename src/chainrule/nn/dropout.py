"""Dropout: active in train mode, the identity in eval mode."""
from __future__ import annotations

from .. import arguments as arg
from .. import functional as F
from ..tensor import Tensor
from .module import Module


class Dropout(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = arg.number(type(self).__name__, "p (the probability of an element to be zeroed)", p, 0.0, 1.0)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace=False"


class Dropout1d(Dropout):
    """Zeroes whole channels of (N, C, L) (or (C, L)) while training."""

    def forward(self, x: Tensor) -> Tensor:
        from .functional import dropout1d

        return dropout1d(x, self.p, self.training)


class Dropout2d(Dropout):
    """Zeroes whole channels of (N, C, H, W) while training (a 3-D input is read as (N, C, L), as PyTorch)."""

    def forward(self, x: Tensor) -> Tensor:
        from .functional import dropout2d

        return dropout2d(x, self.p, self.training)
