"""``cr.utils.data``: PyTorch's name for chainrule's datasets and DataLoader (they live in ``cr.data``)."""
from ...data import ConcatDataset, DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split

__all__ = ["ConcatDataset", "DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]
