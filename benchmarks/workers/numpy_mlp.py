"""The hand-written NumPy bound: forward and backward by the chain rule, no autodiff.

The same method as ../shared/anchors/numpy_mlp.py: weights stored (in, out) so
the forward is X @ W + b, every buffer preallocated, activations, softmax and
the optimizer updated in place.  Nothing a NumPy autodiff engine can beat.
"""
from __future__ import annotations

from ..common import ADAM_LR, LR, MOMENTUM, Config


class NumpyMLP:
    def __init__(self, cfg: Config, opt: str, weights, threads: int) -> None:
        import numpy as np

        f32 = np.float32
        self.np, self.act, self.opt, self.B = np, cfg.act, opt, cfg.batch
        self.L = len(weights)
        self.W = [np.ascontiguousarray(W.T) for W, _ in weights]
        self.b = [b.copy() for _, b in weights]
        outs = cfg.sizes[1:]
        self.A = [np.empty((cfg.batch, o), f32) for o in outs]  # layer outputs, activated in place
        self.dA = [np.empty((cfg.batch, o), f32) for o in outs[:-1]]
        self.tmp = [np.empty((cfg.batch, o), f32) for o in outs[:-1]]
        self.dW = [np.empty_like(w) for w in self.W]
        self.db = [np.empty_like(b) for b in self.b]
        self.rowmax = np.empty((cfg.batch, 1), f32)
        self.rowsum = np.empty((cfg.batch, 1), f32)
        self.P = np.empty((cfg.batch, outs[-1]), f32)
        self.rows = np.arange(cfg.batch)
        params = self.W + self.b
        self.state = [[np.zeros_like(p) for p in params] for _ in range(1 if opt == "sgd" else 3)]
        if opt == "sgd":
            self.gscale = f32(1.0 / cfg.batch)  # mean over the batch folded into dZ
            self.lr, self.mu = f32(LR), f32(MOMENTUM)
        else:
            self.gscale = f32(1.0 / cfg.batch)
            self.t = 0

    def batch(self, x, y):
        return x, y

    def fwd(self, x, y):
        np = self.np
        a = x
        for l in range(self.L):
            z = self.A[l]
            np.matmul(a, self.W[l], out=z)
            z += self.b[l]
            if l < self.L - 1:
                if self.act == "relu":
                    np.maximum(z, 0, out=z)
                else:  # sigmoid: 1 / (1 + exp(-z)), in place
                    np.negative(z, out=z)
                    np.exp(z, out=z)
                    z += 1
                    np.reciprocal(z, out=z)
            a = z
        np.max(a, axis=1, keepdims=True, out=self.rowmax)
        a -= self.rowmax
        np.exp(a, out=self.P)
        np.sum(self.P, axis=1, keepdims=True, out=self.rowsum)
        loss = (np.log(self.rowsum).sum() - a[self.rows, y].sum()) / self.B
        self.P /= self.rowsum
        return loss

    def _backward(self, x, y, update: bool) -> None:
        np = self.np
        dZ = self.P  # d loss / d logits = (softmax - onehot) / B
        dZ[self.rows, y] -= 1
        dZ *= self.gscale
        for l in range(self.L - 1, -1, -1):
            a_prev = x if l == 0 else self.A[l - 1]
            np.matmul(a_prev.T, dZ, out=self.dW[l])
            np.sum(dZ, axis=0, out=self.db[l])
            if l > 0:
                dA = self.dA[l - 1]
                np.matmul(dZ, self.W[l].T, out=dA)  # before W[l] is updated
                t = self.tmp[l - 1]
                if self.act == "relu":
                    np.greater(a_prev, 0, out=t)
                else:  # sigmoid' = s (1 - s) from the saved output
                    np.subtract(1, a_prev, out=t)
                    t *= a_prev
                dA *= t
                dZ = dA
        if update:
            self._update()

    def _update(self) -> None:
        np = self.np
        params, grads = self.W + self.b, self.dW + self.db
        if self.opt == "sgd":  # PyTorch: v = mu v + g; p -= lr v
            for p, g, v in zip(params, grads, self.state[0]):
                v *= self.mu
                v += g
                np.multiply(v, self.lr, out=g)  # g's buffer is free now: scratch for lr * v
                p -= g
            return
        b1, b2, eps = 0.9, 0.999, 1e-8  # PyTorch's Adam
        self.t += 1
        step = np.float32(ADAM_LR / (1 - b1 ** self.t))
        inv_bc2 = np.float32(1 / np.sqrt(1 - b2 ** self.t))
        for p, g, m, s, t in zip(params, grads, *self.state):
            m *= b1
            np.multiply(g, 1 - b1, out=t)
            m += t
            s *= b2
            g *= g
            g *= 1 - b2
            s += g
            np.sqrt(s, out=t)
            t *= inv_bc2
            t += eps
            np.divide(m, t, out=t)
            t *= step
            p -= t

    def step(self, x, y):
        loss = self.fwd(x, y)
        self._backward(x, y, True)
        return loss

    def fwdbwd(self, x, y):
        loss = self.fwd(x, y)
        self._backward(x, y, False)
        return loss

    def loss_value(self, loss) -> float:
        return float(loss)

    def weights(self) -> list:
        return [(W.T.copy(), b.copy()) for W, b in zip(self.W, self.b)]


def build(cfg: Config, opt: str, weights, threads: int) -> NumpyMLP:
    return NumpyMLP(cfg, opt, weights, threads)
