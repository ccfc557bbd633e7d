"""DataLoader: batches of a dataset, in order or in a seeded shuffled order.

The order of each epoch is a pure function of ``(seed, epoch)``, so a run
resumed at epoch k sees exactly the batches an uninterrupted run would.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from .. import arguments
from ..errors import ArgumentError, ShapeError
from ..tensor import Tensor
from .dataset import TensorDataset


class DataLoader:
    """Iterate over ``dataset`` in batches stacked as tensors.

    ``shuffle=True`` draws a fresh permutation every epoch from the loader's
    own generator, seeded by ``seed`` (or, when ``seed`` is None, by a number
    drawn once from chainrule's global generator, so ``cr.manual_seed`` makes
    it repeatable). Each ``iter(loader)`` is one epoch and advances
    ``loader.epoch``; ``set_epoch(k)`` jumps to epoch k's order.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise ArgumentError(f"DataLoader: the dataset must have __len__ and __getitem__ (a Dataset, a list, "
                                f"...), got {type(dataset).__name__}")
        if seed is None:
            from .. import random

            seed = int(random.generator().integers(2**63))
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = arguments.seed("DataLoader", seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The next iteration yields epoch ``epoch``'s order (counting from 0)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        """The example indices of ``epoch``, in the order they are served."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng((self.seed, int(epoch))).permutation(n)

    def __iter__(self) -> Iterator:
        order = self.order(self.epoch)
        self.epoch += 1
        stop = len(self) * self.batch_size
        batch = self._take if isinstance(self.dataset, TensorDataset) else self._collate
        for start in range(0, min(stop, len(order)), self.batch_size):
            yield batch(order[start:start + self.batch_size])

    def _take(self, idx: np.ndarray) -> tuple:
        """Whole batch by fancy indexing (always a copy: the batch never aliases the dataset)."""
        return tuple(Tensor._make(a[idx], None) for a in self.dataset.arrays)

    def _collate(self, idx: np.ndarray) -> Any:
        return collate([self.dataset[int(i)] for i in idx])

    def __repr__(self) -> str:
        return (f"DataLoader({len(self.dataset)} examples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed})")


def collate(items: list) -> Any:
    """Stack a list of examples: tuples field by field, dicts key by key, the rest as arrays."""
    first = items[0]
    if isinstance(first, (tuple, list)):
        _same("fields", [len(it) if isinstance(it, (tuple, list)) else type(it).__name__ for it in items])
        return tuple(collate([it[j] for it in items]) for j in range(len(first)))
    if isinstance(first, dict):
        _same("keys", [sorted(map(str, it)) if isinstance(it, dict) else type(it).__name__ for it in items])
        return {k: collate([it[k] for it in items]) for k in first}
    arrays = [np.asarray(it.data if isinstance(it, Tensor) else it) for it in items]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ShapeError(f"collate: the examples of a batch must have one shape to be stacked, got shapes "
                         f"{', '.join(map(str, sorted(shapes)))}")
    stacked = np.stack(arrays)
    if not isinstance(first, (Tensor, np.ndarray)) and stacked.dtype == np.float64:
        stacked = stacked.astype(np.float32)  # Python floats become float32, as cr.tensor does
    return Tensor._make(stacked, None)


def _same(what: str, found: list) -> None:
    """Every example of a batch has the same structure (as many fields, the same keys)."""
    if any(f != found[0] for f in found):
        i = next(i for i, f in enumerate(found) if f != found[0])
        raise ShapeError(f"collate: the examples of a batch must have the same {what}: example 0 has {found[0]}, "
                         f"example {i} has {found[i]}")
