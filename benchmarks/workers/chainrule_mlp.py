"""chainrule worker: only the public API, written the way a user writes a training loop."""
from __future__ import annotations

from ..common import ADAM_LR, LR, MOMENTUM, Config


class ChainruleMLP:
    def __init__(self, cfg: Config, opt: str, weights, threads: int) -> None:
        import chainrule as cr

        self.cr = cr
        nn = cr.nn
        act = nn.Sigmoid if cfg.act == "sigmoid" else nn.ReLU
        layers = []
        for i, (W, b) in enumerate(weights):
            lin = nn.Linear(W.shape[1], W.shape[0])
            with cr.no_grad():
                lin.weight.copy_(cr.tensor(W))
                lin.bias.copy_(cr.tensor(b))
            layers.append(lin)
            if i < len(weights) - 1:
                layers.append(act())
        self.model = nn.Sequential(*layers)
        self.Linear = nn.Linear
        self.crit = nn.CrossEntropyLoss()
        params = self.model.parameters()
        self.opt = (cr.optim.SGD(params, lr=LR, momentum=MOMENTUM) if opt == "sgd"
                    else cr.optim.Adam(params, lr=ADAM_LR))

    def batch(self, x, y):
        return self.cr.tensor(x), self.cr.tensor(y)

    def step(self, x, y):
        self.opt.zero_grad()
        loss = self.crit(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss

    def fwd(self, x, y):
        return self.crit(self.model(x), y)

    def fwdbwd(self, x, y):
        self.model.zero_grad()
        loss = self.crit(self.model(x), y)
        loss.backward()
        return loss

    def loss_value(self, loss) -> float:
        return float(loss.item())

    def weights(self) -> list:
        lins = [m for m in self.model.modules() if isinstance(m, self.Linear)]
        return [(m.weight.numpy().copy(), m.bias.numpy().copy()) for m in lins]


def build(cfg: Config, opt: str, weights, threads: int) -> ChainruleMLP:
    return ChainruleMLP(cfg, opt, weights, threads)
