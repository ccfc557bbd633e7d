"""A small CNN in the style of the classic tutorials: conv, pool, batch norm, dropout, view, Adam, train/eval."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)  # batch norm removes a bias anyway
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.dropout = nn.Dropout(0.5)
        self.fc1 = nn.Linear(8 * 1 * 1, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def main():
    rng = np.random.default_rng(10)
    net = Net()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, tuple(p.shape)).astype(np.float32)))
        net.bn1.weight.fill_(1.0)
    images = torch.from_numpy(rng.standard_normal((12, 1, 8, 8)).astype(np.float32))
    labels = torch.from_numpy(rng.integers(0, 3, 12))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01, betas=(0.9, 0.99))
    losses = []
    for _ in range(8):
        net.train()
        net.dropout.p = 0.0  # dropout's random mask differs between libraries; keep the layer, switch it off
        optimizer.zero_grad()
        loss = F.cross_entropy(net(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    net.eval()
    with torch.no_grad():
        probs = F.softmax(net(images), dim=1)
    assert losses[-1] < losses[0]
    return {"losses": losses, "probs_row0": probs[0].tolist(), "running_mean": net.bn1.running_mean.tolist(),
            "batches_tracked": int(net.bn1.num_batches_tracked.item()), "training": net.training}
