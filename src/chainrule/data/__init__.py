"""Datasets and batching: TensorDataset, DataLoader, the bundled digits, MNIST from IDX files."""
from .dataset import Dataset, TensorDataset
from .digits import Images, load_digits
from .loader import DataLoader, collate, default_collate
from .mnist import MNIST, load_mnist, read_idx
from .subsets import ConcatDataset, Subset, random_split

__all__ = ["MNIST", "ConcatDataset", "DataLoader", "Dataset", "Images", "Subset", "TensorDataset", "collate",
           "default_collate", "load_digits", "load_mnist", "random_split", "read_idx"]
