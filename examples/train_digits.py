"""Train a small network on the bundled digits with the plain PyTorch-style loop.

    python examples/train_digits.py
"""
from __future__ import annotations

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset, load_digits


def main(epochs: int = 10, seed: int = 0) -> float:
    cr.manual_seed(seed)
    x, y = load_digits()
    order = cr.randperm(len(y))  # the file is ordered by writer: shuffle before splitting
    x, y = cr.tensor(x)[order], cr.tensor(y)[order]
    train = TensorDataset(x[:1400], y[:1400])
    test_x, test_y = x[1400:], y[1400:]
    loader = DataLoader(train, batch_size=32, shuffle=True, seed=seed)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        with cr.no_grad():
            accuracy = (model(test_x).argmax(axis=1) == test_y).float().mean().item()
        print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  test accuracy {accuracy:.2%}")
    return accuracy


if __name__ == "__main__":
    main()
