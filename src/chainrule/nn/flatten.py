"""Flatten: (N, C, H, W) -> (N, C·H·W) between a conv stack and a linear head."""
from __future__ import annotations

from .. import arguments as arg
from ..ops.shape import flatten
from ..tensor import Tensor
from .module import Module


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = arg.integer("Flatten", "start_dim", start_dim)
        self.end_dim = arg.integer("Flatten", "end_dim", end_dim)

    def forward(self, x: Tensor) -> Tensor:
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
