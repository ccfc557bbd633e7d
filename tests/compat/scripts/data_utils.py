"""torch.utils.data with a map-style Dataset, random_split, Subset, a collate_fn, and the device idiom."""
import torch
from torch.utils.data import DataLoader, Dataset, Subset, random_split

REQUIRES = ("tensor_to_device",)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.tensor([float(i)]), i * i


def main():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    ds = Squares(10)
    train, val = random_split(ds, [0.8, 0.2], generator=torch.Generator().manual_seed(42))
    first = Subset(ds, [0, 1, 2])
    total = 0
    for x, y in DataLoader(first, batch_size=2):
        x, y = x.to(device), y.to(device)
        total += int(y.sum())
    pairs = list(DataLoader(ds, batch_size=4, collate_fn=lambda items: len(items)))
    model = torch.nn.Linear(1, 1).to(device)
    labels = next(iter(DataLoader(ds, 3)))[1]
    return {"device": str(device), "sizes": [len(train), len(val)],
            "disjoint": not set(train.indices) & set(val.indices), "total": total, "collated": pairs,
            "batch_dtype": str(labels.dtype).split(".")[-1], "cuda": torch.cuda.is_available(),
            "on": str(next(model.parameters()).device)}
