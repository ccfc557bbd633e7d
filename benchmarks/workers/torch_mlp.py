"""PyTorch worker: nn.Sequential, nn.CrossEntropyLoss, torch.optim, the usual loop."""
from __future__ import annotations

from ..common import ADAM_LR, LR, MOMENTUM, Config


class TorchMLP:
    def __init__(self, cfg: Config, opt: str, weights, threads: int) -> None:
        import torch
        import torch.nn as nn

        torch.set_num_threads(threads)
        self.torch = torch
        act = nn.Sigmoid if cfg.act == "sigmoid" else nn.ReLU
        layers = []
        for i, (W, b) in enumerate(weights):
            lin = nn.Linear(W.shape[1], W.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if i < len(weights) - 1:
                layers.append(act())
        self.model = nn.Sequential(*layers)
        self.Linear = nn.Linear
        self.crit = nn.CrossEntropyLoss()
        params = self.model.parameters()
        self.opt = (torch.optim.SGD(params, lr=LR, momentum=MOMENTUM) if opt == "sgd"
                    else torch.optim.Adam(params, lr=ADAM_LR))

    def batch(self, x, y):
        return self.torch.from_numpy(x), self.torch.from_numpy(y)

    def step(self, x, y):
        self.opt.zero_grad(set_to_none=True)
        loss = self.crit(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss

    def fwd(self, x, y):
        return self.crit(self.model(x), y)

    def fwdbwd(self, x, y):
        self.model.zero_grad(set_to_none=True)
        loss = self.crit(self.model(x), y)
        loss.backward()
        return loss

    def loss_value(self, loss) -> float:
        return float(loss.item())

    def weights(self) -> list:
        lins = [m for m in self.model.modules() if isinstance(m, self.Linear)]
        return [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()) for m in lins]


def build(cfg: Config, opt: str, weights, threads: int) -> TorchMLP:
    return TorchMLP(cfg, opt, weights, threads)
