"""Datasets and batching: TensorDataset, DataLoader, the bundled digits, MNIST from IDX files."""
from .dataset import Dataset, TensorDataset
from .digits import Images, load_digits
from .loader import DataLoader, collate
from .mnist import MNIST, load_mnist, read_idx

__all__ = ["MNIST", "DataLoader", "Dataset", "Images", "TensorDataset", "collate", "load_digits", "load_mnist",
           "read_idx"]
