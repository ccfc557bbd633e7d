"""The classic evaluation loop: ``_, predicted = torch.max(outputs, 1)``."""
import numpy as np
import torch
import torch.nn as nn

REQUIRES = ("max_dim_tuple",)


def main():
    rng = np.random.default_rng(2)
    x = torch.from_numpy(rng.standard_normal((2, 5)).astype(np.float32))  # two rows: unpacking rows would "work"
    labels = torch.tensor([1, 3])
    net = nn.Linear(5, 4)
    with torch.no_grad():
        net.weight.copy_(torch.from_numpy(rng.standard_normal((4, 5)).astype(np.float32)))
        net.bias.zero_()
    outputs = net(x)
    values, predicted = torch.max(outputs, 1)
    total = labels.size(0)
    correct = (predicted == labels).sum().item()
    best = outputs.max(dim=1, keepdim=True)
    return {"predicted": predicted.tolist(), "values": values.tolist(), "correct": int(correct), "total": total,
            "keepdim_shape": list(best.values.shape), "overall_max": outputs.max().item()}
