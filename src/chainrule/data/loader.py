"""DataLoader: batches of a dataset, in order or in a seeded shuffled order.

The order of each epoch is a pure function of ``(seed, epoch)``, so a run
resumed at epoch k sees exactly the batches an uninterrupted run would.
Given ``generator=`` (PyTorch's way), each epoch instead draws its permutation
from that generator, so a generator seeded the same way gives the same epochs.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

import numpy as np

from .. import arguments
from ..errors import ArgumentError, ShapeError
from ..tensor import Tensor
from .dataset import IterableDataset, TensorDataset


class DataLoader:
    """Iterate over ``dataset`` in batches stacked as tensors.

    ``shuffle=True`` draws a fresh permutation every epoch from the loader's
    own generator, seeded by ``seed`` (or, when ``seed`` is None, by a number
    drawn once from chainrule's global generator, so ``cr.manual_seed`` makes
    it repeatable). Each ``iter(loader)`` is one epoch and advances
    ``loader.epoch``; ``set_epoch(k)`` jumps to epoch k's order.

    PyTorch's keywords: ``sampler=`` (any iterable of indices), ``collate_fn=`` and
    ``batch_size=None`` (no batching) work as there; ``num_workers``,
    ``pin_memory`` and the other worker options are accepted and change
    nothing: batches are made in this process.
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, *, sampler: Iterable | None = None, batch_sampler: Iterable | None = None,
                 num_workers: int = 0, collate_fn: Callable | None = None, pin_memory: bool = False,
                 timeout: float = 0, worker_init_fn: Callable | None = None, multiprocessing_context=None,
                 generator=None, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "") -> None:
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                       or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive integer or None, got {batch_size!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got {num_workers!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if isinstance(dataset, IterableDataset) and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader with an IterableDataset: shuffle, sampler and batch_sampler do not apply "
                             "(the dataset decides the order)")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                             "sampler, and drop_last")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise ArgumentError(f"DataLoader: the dataset must have __len__ and __getitem__ (a Dataset, a list, "
                                f"...), got {type(dataset).__name__}")
        if generator is not None:
            from .. import random

            random.generator(generator)  # a clear error now for a wrong kind of generator
        if seed is None and generator is None:
            from .. import random

            seed = int(random.generator().integers(2**63))
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.generator = generator
        self.seed = None if seed is None else arguments.seed("DataLoader", seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The next iteration yields epoch ``epoch``'s order (counting from 0)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        """The example indices of ``epoch``, in the order they are served."""
        if self.sampler is not None:
            return np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
        n = len(self.dataset)
        if self.shuffle and self.generator is not None:
            from .. import random

            return random.generator(self.generator).permutation(n)
        return epoch_order(n, self.seed, epoch, self.shuffle)

    def _batches(self) -> list:
        """This epoch's batches of indices (computed now, before ``epoch`` advances)."""
        if self.batch_sampler is not None:
            return [np.asarray(list(b), dtype=np.int64) for b in self.batch_sampler]
        order = self.order(self.epoch)
        if self.batch_size is None:
            return list(order)
        stop = min(len(self) * self.batch_size, len(order))
        return [order[start:start + self.batch_size] for start in range(0, stop, self.batch_size)]

    def __iter__(self) -> Iterator:
        if isinstance(self.dataset, IterableDataset):
            self.epoch += 1
            return self._serve_stream()
        batches = self._batches()
        self.epoch += 1
        return self._serve(batches)

    def _serve(self, batches: list) -> Iterator:
        if self.batch_size is None and self.batch_sampler is None:
            for i in batches:
                item = self.dataset[int(i)]
                yield item if self.collate_fn is None else self.collate_fn(item)
            return
        if self.collate_fn is not None:
            batch = self._custom
        else:
            batch = self._take if isinstance(self.dataset, TensorDataset) else self._collate
        for idx in batches:
            yield batch(idx)

    def _serve_stream(self) -> Iterator:
        join = self.collate_fn or collate
        if self.batch_size is None:
            for item in self.dataset:
                yield item if self.collate_fn is None else self.collate_fn(item)
            return
        batch: list = []
        for item in self.dataset:
            batch.append(item)
            if len(batch) == self.batch_size:
                yield join(batch)
                batch = []
        if batch and not self.drop_last:
            yield join(batch)

    def _take(self, idx: np.ndarray) -> tuple:
        """Whole batch by fancy indexing (always a copy: the batch never aliases the dataset)."""
        return tuple(Tensor._make(a[idx], None) for a in self.dataset.arrays)

    def _collate(self, idx: np.ndarray) -> Any:
        return collate([self.dataset[int(i)] for i in idx])

    def _custom(self, idx: np.ndarray) -> Any:
        return self.collate_fn([self.dataset[int(i)] for i in idx])

    def __repr__(self) -> str:
        how = f"seed={self.seed}" if self.generator is None else f"generator={self.generator!r}"
        return (f"DataLoader({len(self.dataset)} examples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, {how})")


def epoch_order(n: int, seed: int, epoch: int, shuffle: bool = True) -> np.ndarray:
    """The order of ``n`` examples in ``epoch``: a pure function of (seed, epoch)."""
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng((int(seed), int(epoch))).permutation(n)


def collate(items: list) -> Any:
    """Stack a list of examples: tuples field by field, dicts key by key, the rest as arrays."""
    first = items[0]
    if isinstance(first, (tuple, list)):
        _same("fields", [len(it) if isinstance(it, (tuple, list)) else type(it).__name__ for it in items])
        return tuple(collate([it[j] for it in items]) for j in range(len(first)))
    if isinstance(first, dict):
        _same("keys", [sorted(map(str, it)) if isinstance(it, dict) else type(it).__name__ for it in items])
        return {k: collate([it[k] for it in items]) for k in first}
    if isinstance(first, str):
        return list(items)  # strings stay a list (PyTorch's default_collate)
    arrays = [np.asarray(it.numpy() if isinstance(it, Tensor) else it) for it in items]
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


default_collate = collate
