"""Save a checkpoint dict, load it into fresh objects, and go on: the same as never stopping."""
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn


def build():
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    rng = np.random.default_rng(8)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, tuple(p.shape)).astype(np.float32)))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    return model, optimizer


def steps(model, optimizer, start, n):
    losses = []
    for i in range(start, start + n):
        rng = np.random.default_rng(100 + i)
        x = torch.from_numpy(rng.standard_normal((16, 3)).astype(np.float32))
        y = x.sum(dim=1, keepdim=True)
        loss = nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def main():
    model, optimizer = build()
    straight = steps(model, optimizer, 0, 10)
    model, optimizer = build()
    first = steps(model, optimizer, 0, 5)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ckpt.pt")
        torch.save({"epoch": 5, "model_state_dict": model.state_dict(),
                    "optimizer_state_dict": optimizer.state_dict(), "loss": first[-1]}, path)
        model, optimizer = build()
        checkpoint = torch.load(path, weights_only=True, map_location="cpu")
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        epoch = checkpoint["epoch"]
    resumed = first + steps(model, optimizer, epoch, 5)
    assert np.allclose(resumed, straight, rtol=1e-6), (resumed, straight)
    return {"losses": resumed, "epoch": epoch, "saved_loss": checkpoint["loss"]}
