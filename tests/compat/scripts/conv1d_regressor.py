"""A 1-D convolutional regressor: Conv1d, GroupNorm, SiLU, MaxPool1d, AdaptiveAvgPool1d, Dropout (eval),
SmoothL1Loss, NAdam with CyclicLR stepped per batch, then F.interpolate of the predictions."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(2, 6, 3, padding=1), nn.GroupNorm(2, 6), nn.SiLU(), nn.MaxPool1d(2),
            nn.Conv1d(6, 6, 3, padding="same", padding_mode="reflect"), nn.ELU(), nn.AdaptiveAvgPool1d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(12, 1))

    def forward(self, x):
        return self.head(self.features(x)).squeeze(-1)


def main():
    rng = np.random.default_rng(8)
    model = Net()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy((rng.standard_normal(tuple(p.shape)) * 0.3).astype(np.float32)))
    x = torch.from_numpy(rng.standard_normal((8, 2, 10)).astype(np.float32))
    y = x[:, 0].mean(dim=1) * 2 - x[:, 1].amax(dim=1)
    opt = torch.optim.NAdam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.CyclicLR(opt, base_lr=0.001, max_lr=0.02, step_size_up=2, cycle_momentum=False)
    loss_fn = nn.SmoothL1Loss(beta=0.5)
    model.eval()  # dropout off: both libraries draw different masks
    losses, lrs = [], []
    for _ in range(6):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        lrs.append(sched.get_last_lr()[0])
    with torch.no_grad():
        smooth = F.interpolate(model(x).view(1, 1, -1), scale_factor=2, mode="linear", align_corners=False)
    return {"losses": losses, "lrs": lrs, "smooth": smooth.flatten().tolist(), "model": repr(model)}
