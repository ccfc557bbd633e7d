"""Views of datasets: Subset (chosen indices), ConcatDataset (one after another), random_split."""
from __future__ import annotations

import math
from bisect import bisect_right
from typing import Any, Sequence

from ..errors import DataError
from .dataset import Dataset


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``, in that order (nothing is copied)."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, idx: int) -> Any:
        if isinstance(idx, list):
            return [self.dataset[self.indices[i]] for i in idx]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets read as one, the first one's examples first."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes, total = [], 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise IndexError(f"ConcatDataset: index {idx} out of range for {len(self)} examples")
            idx += len(self)
        which = bisect_right(self.cumulative_sizes, idx)
        if which == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} out of range for {len(self)} examples")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


def _lengths(lengths: Sequence[float], n: int) -> list[int]:
    """Counts as given, or fractions turned into counts with the remainder dealt round-robin (PyTorch's rule)."""
    if all(isinstance(x, int) for x in lengths):
        counts = list(lengths)
    elif math.isclose(sum(lengths), 1.0) and all(0 <= x <= 1 for x in lengths):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        raise DataError(f"random_split: lengths {list(lengths)} must be integer counts or fractions summing to 1")
    if any(c < 0 for c in counts) or sum(counts) != n:
        raise DataError(f"random_split: sum of input lengths {counts} does not equal the length of the input "
                        f"dataset ({n})")
    return counts


def random_split(dataset: Any, lengths: Sequence[float], generator=None) -> list[Subset]:
    """Disjoint random Subsets of the given sizes (or fractions), from ``generator`` or the global stream."""
    from .. import random

    counts = _lengths(lengths, len(dataset))
    perm = random.generator(generator).permutation(len(dataset)).tolist()
    out, start = [], 0
    for c in counts:
        out.append(Subset(dataset, perm[start:start + c]))
        start += c
    return out
