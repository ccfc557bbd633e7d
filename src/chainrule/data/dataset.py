"""TensorDataset: examples stored as rows of tensors that share their first axis."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import IndexOutOfRange, ShapeError
from ..tensor import Tensor


class Dataset:
    """Anything with ``__len__`` and ``__getitem__(i)`` works with DataLoader; this base is optional."""

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError


class IterableDataset(Dataset):
    """A stream of examples (``__iter__``) rather than indexed ones; DataLoader batches them in arrival order."""

    def __iter__(self):
        raise NotImplementedError

    def __len__(self) -> int:
        raise TypeError(f"{type(self).__name__} is an IterableDataset without a length")

    def __getitem__(self, index: int) -> Any:
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it instead of indexing it")


class TensorDataset(Dataset):
    """Example ``i`` is ``tuple(t[i] for t in tensors)``, e.g. an (input, label) pair.

    Arrays are accepted and wrapped as tensors without copying. DataLoader
    takes whole batches from ``arrays`` at once instead of item by item.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        ts = tuple(t if isinstance(t, Tensor) else _as_tensor(t) for t in tensors)
        for i, t in enumerate(ts):
            if t.ndim == 0:
                raise ShapeError(f"TensorDataset: tensor {i} is 0-d; every tensor needs a first axis of examples")
        sizes = [t.shape[0] for t in ts]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(t.shape) for t in ts)
            raise ShapeError(f"TensorDataset: tensors must have the same first dimension, got shapes {shapes}")
        self.tensors = ts

    @property
    def arrays(self) -> tuple:
        return tuple(t._data for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index: int) -> tuple:
        n = len(self)
        if isinstance(index, (int, np.integer)) and not -n <= index < n:
            raise IndexOutOfRange(f"TensorDataset: index {index} is out of range for {n} examples")
        return tuple(Tensor._make(a[index], None) for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(str(t.shape) for t in self.tensors)
        return f"TensorDataset({len(self)} examples: {shapes})"


def _as_tensor(data: Any) -> Tensor:
    """An array is wrapped without a copy; other data goes through ``cr.tensor`` (ragged lists are a ShapeError)."""
    from ..backend import xp
    from ..creation import tensor
    from ..tensor import to_array

    return Tensor._make(to_array(data), None) if isinstance(data, xp.ndarray) else tensor(data)
