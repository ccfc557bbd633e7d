"""The older idiom: update ``p.data`` and reset ``p.grad = None``."""
import numpy as np
import torch
import torch.nn as nn

REQUIRES = ("data_is_tensor", "inplace_ops")


def main():
    rng = np.random.default_rng(4)
    x = torch.from_numpy(rng.standard_normal((20, 2)).astype(np.float32))
    y = torch.from_numpy((rng.standard_normal(20) > 0).astype(np.float32)).unsqueeze(1)
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.fill_(0.1)
        model.bias.fill_(-0.1)
    for _ in range(25):
        loss = nn.functional.binary_cross_entropy_with_logits(model(x), y)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad.data
    return {"loss": loss.item(), "weight": model.weight.data.flatten().tolist(),
            "std": model.weight.data.std().item()}
