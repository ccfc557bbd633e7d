"""Training in epochs with a checkpoint dict saved each epoch (model, optimizer, scheduler, history), then resumed."""
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh())
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        return self.head(self.body(x))


def build():
    model = Regressor()
    rng = np.random.default_rng(4)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2, 4], gamma=0.5)
    return model, optimizer, scheduler


def epoch(model, optimizer, e):
    rng = np.random.default_rng(50 + e)
    x = torch.from_numpy(rng.standard_normal((32, 4)).astype(np.float32))
    y = torch.stack([x[:, 0] * x[:, 1], x[:, 2:].sum(dim=1)], dim=1)
    model.train()
    total = 0.0
    for xb, yb in zip(x.split(8), y.split(8)):
        optimizer.zero_grad()
        loss = nn.MSELoss()(model(xb), yb)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        total += loss.item() * xb.size(0)
    return total / x.size(0)


def main():
    model, optimizer, scheduler = build()
    straight = []
    for e in range(6):
        straight.append(epoch(model, optimizer, e))
        scheduler.step()

    with tempfile.TemporaryDirectory() as d:
        model, optimizer, scheduler = build()
        history = []
        for e in range(3):
            history.append(epoch(model, optimizer, e))
            scheduler.step()
            torch.save({
                "epoch": e,
                "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "history": history,
                "note": "regressor",
            }, os.path.join(d, f"checkpoint_{e}.tar"))
        del model, optimizer, scheduler

        model, optimizer, scheduler = build()
        checkpoint = torch.load(os.path.join(d, "checkpoint_2.tar"), map_location=torch.device("cpu"))
        result = model.load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        start_epoch = checkpoint["epoch"] + 1
        history = checkpoint["history"]
        for e in range(start_epoch, 6):
            history.append(epoch(model, optimizer, e))
            scheduler.step()
    assert np.allclose(history, straight, rtol=1e-6), (history, straight)
    return {"history": history, "lr": optimizer.param_groups[0]["lr"], "start_epoch": start_epoch,
            "note": checkpoint["note"], "missing": list(result.missing_keys),
            "unexpected": list(result.unexpected_keys),
            "momentum_keys": sorted(optimizer.state_dict()["state"][0].keys())}
