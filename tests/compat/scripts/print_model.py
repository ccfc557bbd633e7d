"""print(model) shows the same module tree as PyTorch."""
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2))
        self.blocks = nn.ModuleList([nn.TransformerEncoderLayer(8, 2, 16, batch_first=True) for _ in range(2)])
        self.extra = nn.ModuleDict({"drop": nn.Dropout(0.25), "act": nn.GELU(approximate="tanh")})
        self.emb = nn.Embedding(10, 8, padding_idx=0)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(8, 3), nn.LogSoftmax(dim=1))


def main():
    return {"model": str(Net()), "mha": repr(nn.MultiheadAttention(8, 2)), "id": str(nn.Identity())}
