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


class Unflatten(Module):
    """Unflatten: one dim back into several, e.g. (N, 12) -> (N, 3, 4) with ``Unflatten(1, (3, 4))``."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        self.dim = arg.integer("Unflatten", "dim", dim)
        self.unflattened_size = tuple(int(s) for s in unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        shape = tuple(x.shape)
        d = self.dim % len(shape) if shape else 0
        return x.reshape(shape[:d] + self.unflattened_size + shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
