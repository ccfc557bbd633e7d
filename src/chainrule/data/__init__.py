"""Datasets and batching: TensorDataset, DataLoader, the bundled digits, MNIST from IDX files."""
from .dataset import Dataset, IterableDataset, TensorDataset
from .digits import Images, load_digits
from .loader import DataLoader, collate, default_collate
from .mnist import MNIST, load_mnist, read_idx
from .samplers import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .subsets import ConcatDataset, Subset, random_split

__all__ = ["MNIST", "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "Images", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset",
           "WeightedRandomSampler", "collate", "default_collate", "load_digits", "load_mnist", "random_split",
           "read_idx"]
