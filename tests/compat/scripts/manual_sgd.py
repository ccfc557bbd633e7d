"""Gradient descent written by hand, as tutorials teach it: ``p -= lr * p.grad`` under no_grad."""
import numpy as np
import torch

REQUIRES = ("inplace_ops",)


def main():
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.standard_normal((32, 3)), dtype=torch.float32)
    y = x @ torch.tensor([[1.5], [-2.0], [0.5]]) + 0.3
    w = torch.zeros(3, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(40):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in (w, b):
                p -= 0.1 * p.grad
                p.grad.zero_()
        losses.append(loss.item())
    return {"first": losses[0], "last": losses[-1], "w": w.detach().flatten().tolist(), "b": b.item()}
