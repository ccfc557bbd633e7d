"""Flatten: (N, C, H, W) -> (N, C·H·W) between a conv stack and a linear head."""
from __future__ import annotations

import math

from .. import arguments as arg
from ..errors import ShapeError
from ..ops.shape import flatten, reshape
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
    """One axis -> several: Unflatten(1, (C, H, W)) turns (N, C·H·W) back into (N, C, H, W) (-1 allowed once)."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        if isinstance(dim, str):
            raise NotImplementedError("Unflatten: named dimensions are not supported; give dim as an int")
        self.dim = arg.integer("Unflatten", "dim", dim)
        if not isinstance(unflattened_size, (tuple, list)) or not unflattened_size:
            raise arg.ArgumentError(f"Unflatten: unflattened_size must be a non-empty tuple of ints, got "
                                    f"{unflattened_size!r}")
        self.unflattened_size = tuple(arg.integer("Unflatten", "unflattened_size", s, -1) for s in unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        shape = tuple(x.shape)
        if not -len(shape) <= self.dim < len(shape):
            raise ShapeError(f"Unflatten: dim {self.dim} is out of range for input of shape {shape}")
        d = self.dim % len(shape)
        sizes = self.unflattened_size
        known = math.prod(s for s in sizes if s != -1)
        if (-1 in sizes and (sizes.count(-1) > 1 or known == 0 or shape[d] % known)) or \
                (-1 not in sizes and known != shape[d]):
            raise ShapeError(f"Unflatten: unflattened_size {sizes} does not multiply to {shape[d]}, the size of "
                             f"dim {self.dim} of input {shape}")
        return reshape(x, shape[:d] + sizes + shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
