"""DistributedSampler without MPI (explicit num_replicas and rank), against PyTorch's and the DataLoader's order."""
from __future__ import annotations

import pytest
import torch.utils.data as tud

import chainrule as cr
from chainrule.data import DataLoader, TensorDataset
from chainrule.distributed import DistributedSampler


class Sized:
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n


@pytest.mark.parametrize("n", [0, 1, 5, 10, 11, 12, 13])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_shards_are_pytorchs(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(Sized(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = tud.DistributedSampler(Sized(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)


@pytest.mark.parametrize("n, replicas", [(20, 2), (23, 4), (3, 5)])
def test_shuffled_shards_split_one_permutation(n, replicas):
    shards = [list(DistributedSampler(Sized(n), replicas, r, seed=7)) for r in range(replicas)]
    assert len({len(s) for s in shards}) == 1  # equal length on every rank
    flat = sorted(i for s in shards for i in s)
    assert set(flat) == set(range(n))  # everything seen; the only repeats are the padding
    assert len(flat) - n == (-n) % replicas
    if n % replicas == 0:
        assert len(flat) == len(set(flat))  # disjoint


def test_epochs_and_seeds_change_the_order_and_repeat_exactly():
    s = DistributedSampler(Sized(50), 2, 0, seed=1)
    e0 = list(s)
    s.set_epoch(1)
    e1 = list(s)
    s.set_epoch(0)
    assert list(s) == e0 and e1 != e0
    assert list(DistributedSampler(Sized(50), 2, 0, seed=2)) != e0


def test_rank_batches_make_up_the_single_process_batches():
    """Batch k of each rank (batch B/N) together is batch k of one process with batch B: the equality test's basis."""
    n, batch, ranks = 40, 8, 2
    ds = TensorDataset(cr.arange(n))
    one = [set(b[0].numpy().tolist()) for b in DataLoader(ds, batch_size=batch, shuffle=True, seed=3)]
    parts = []
    for r in range(ranks):
        loader = DataLoader(ds, batch_size=batch // ranks, sampler=DistributedSampler(ds, ranks, r, seed=3))
        parts.append([set(b[0].numpy().tolist()) for b in loader])
    assert [a | b for a, b in zip(*parts)] == one
    loader.sampler.set_epoch(4)  # PyTorch's way: the sampler's epoch decides the order
    first = next(iter(loader))[0].numpy().tolist()
    assert first == _epoch_indices(ds, ranks, ranks - 1, 4)[:batch // ranks].tolist()


def _epoch_indices(ds, ranks, rank, epoch):
    s = DistributedSampler(ds, ranks, rank, seed=3)
    s.set_epoch(epoch)
    return s.indices()


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(Sized(4), 2, 2)
    with pytest.raises(ValueError, match="num_replicas must be a positive integer"):
        DistributedSampler(Sized(4), 0, 0)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(TensorDataset(cr.arange(4)), shuffle=True, sampler=DistributedSampler(Sized(4), 1, 0))
