"""cr.utils.data: PyTorch's dataset names, random_split, Subset and DataLoader's generator=/sampler=/collate_fn=."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import ConcatDataset, DataLoader, Dataset, Subset, TensorDataset, random_split


class Squares(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return cr.tensor([float(i)]), i * i


def test_random_split_is_a_partition_and_follows_the_generator():
    ds = Squares()
    parts = random_split(ds, [7, 3], generator=cr.Generator().manual_seed(0))
    again = random_split(ds, [7, 3], generator=cr.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [7, 3]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    assert parts[0].indices == again[0].indices
    assert parts[1][0][1] == parts[1].indices[0] ** 2


def test_random_split_fractions_deal_the_remainder_like_pytorch():
    assert [len(p) for p in random_split(range(10), [0.33, 0.33, 0.34])] == [4, 3, 3]
    with pytest.raises(cr.DataError, match="does not equal"):
        random_split(range(10), [3, 3])


def test_dataloader_over_a_map_dataset_collates_pairs():
    (x, y), = list(DataLoader(Subset(Squares(), [1, 2, 3]), batch_size=3))
    assert x.shape == (3, 1) and x.dtype == cr.float32
    assert y.dtype == cr.int64 and y.tolist() == [1, 4, 9]


def test_generator_makes_shuffling_repeatable_and_epochs_differ():
    ds = TensorDataset(cr.arange(20))

    def epochs(seed):
        dl = DataLoader(ds, batch_size=20, shuffle=True, generator=cr.Generator().manual_seed(seed))
        return [next(iter(dl))[0].tolist() for _ in range(2)]

    a, b = epochs(1), epochs(1)
    assert a == b and a[0] != a[1] and sorted(a[0]) == list(range(20))


def test_sampler_batch_sampler_and_collate_fn():
    ds = TensorDataset(cr.arange(6))
    assert [b[0].tolist() for b in DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2])] == [[5, 4], [3, 2]]
    assert [b[0].tolist() for b in DataLoader(ds, batch_sampler=[[0, 1, 2], [5]])] == [[0, 1, 2], [5]]
    sums = list(DataLoader(ds, batch_size=3, collate_fn=lambda items: sum(int(t[0]) for t in items)))
    assert sums == [3, 12]
    assert [int(x[0]) for x in DataLoader(ds, batch_size=None)] == list(range(6))
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, shuffle=True, sampler=[0])


def test_concat_dataset_indexes_across_parts():
    cat = ConcatDataset([range(3), range(10, 12)])
    assert len(cat) == 5 and [cat[i] for i in range(5)] == [0, 1, 2, 10, 11] and cat[-1] == 11
    with pytest.raises(IndexError):
        cat[5]


def test_num_workers_is_accepted_and_batches_are_the_same():
    ds = TensorDataset(cr.tensor(np.arange(8.0, dtype=np.float32)))
    a = [b[0].tolist() for b in DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True)]
    assert a == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_samplers_serve_what_pytorch_serves():
    from chainrule.utils.data import (
        BatchSampler,
        RandomSampler,
        SequentialSampler,
        SubsetRandomSampler,
        WeightedRandomSampler,
    )

    ds = TensorDataset(cr.arange(10))
    assert list(SequentialSampler(ds)) == list(range(10))
    g = cr.Generator().manual_seed(0)
    once, twice = list(RandomSampler(ds, generator=g)), list(RandomSampler(ds, generator=g))
    assert sorted(once) == list(range(10)) and once != twice  # a fresh order each pass
    assert len(list(RandomSampler(ds, replacement=True, num_samples=25))) == 25
    sub = list(SubsetRandomSampler([2, 4, 6]))
    assert sorted(sub) == [2, 4, 6]
    drawn = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 50))
    assert set(drawn) <= {1, 3} and drawn.count(3) > drawn.count(1)
    assert list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    assert len(BatchSampler(range(5), 2, drop_last=True)) == 2
    loader = DataLoader(ds, batch_size=4, sampler=SubsetRandomSampler([0, 1, 2, 3, 4], generator=g))
    got = [v for b in loader for v in b[0].tolist()]
    assert sorted(got) == [0, 1, 2, 3, 4] and len(loader) == 2
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([-1.0, 2.0], 3)


def test_iterable_dataset_is_batched_in_arrival_order():
    from chainrule.utils.data import IterableDataset

    class Stream(IterableDataset):
        def __iter__(self):
            for i in range(5):
                yield cr.tensor([float(i)]), i

    batches = list(DataLoader(Stream(), batch_size=2))
    assert [b[1].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert [b[1].tolist() for b in DataLoader(Stream(), batch_size=2, drop_last=True)] == [[0, 1], [2, 3]]
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)
    with pytest.raises(TypeError, match="indexing"):
        Stream()[0]
