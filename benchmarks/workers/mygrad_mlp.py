"""MyGrad 2.5 worker, as ../shared/anchors/other_numpy_engines.py writes it.

mg.matmul(x, W) + b with W stored (in, out), mygrad.nnet relu/sigmoid, the
fused softmax_crossentropy loss, and SGD with momentum (PyTorch's rule) in
place on the float32 parameter arrays.  MyGrad has no Adam: that job is skipped.
"""
from __future__ import annotations

from ..common import LR, MOMENTUM, Config


class MyGradMLP:
    def __init__(self, cfg: Config, opt: str, weights, threads: int) -> None:
        if opt != "sgd":
            raise NotImplementedError("MyGrad has no optimizers; only the SGD+momentum jobs run")
        import mygrad as mg
        import numpy as np
        from mygrad.nnet.activations import relu, sigmoid
        from mygrad.nnet.losses import softmax_crossentropy

        self.mg, self.np, self.xent = mg, np, softmax_crossentropy
        self.act = relu if cfg.act == "relu" else sigmoid
        self.params = []
        for W, b in weights:
            self.params += [mg.tensor(np.ascontiguousarray(W.T)), mg.tensor(b)]
        self.v = [np.zeros_like(p.data) for p in self.params]
        self.t = [np.empty_like(p.data) for p in self.params]
        self.lr, self.mu = np.float32(LR), np.float32(MOMENTUM)

    def batch(self, x, y):
        return x, y

    def _loss(self, x, y):
        mg, P = self.mg, self.params
        a = x
        n = len(P) // 2
        for i in range(n):
            a = mg.matmul(a, P[2 * i]) + P[2 * i + 1]
            if i < n - 1:
                a = self.act(a)
        return self.xent(a, y)

    def step(self, x, y):
        loss = self._loss(x, y)
        loss.backward()
        np = self.np
        for p, v, t in zip(self.params, self.v, self.t):
            v *= self.mu
            v += p.grad
            np.multiply(v, self.lr, out=t)
            p.data -= t
        return loss

    def fwd(self, x, y):
        return self._loss(x, y)

    def fwdbwd(self, x, y):
        loss = self._loss(x, y)
        loss.backward()
        return loss

    def loss_value(self, loss) -> float:
        return float(loss.item())

    def weights(self) -> list:
        P = self.params
        return [(P[i].data.T.copy(), P[i + 1].data.copy()) for i in range(0, len(P), 2)]


def build(cfg: Config, opt: str, weights, threads: int) -> MyGradMLP:
    return MyGradMLP(cfg, opt, weights, threads)
