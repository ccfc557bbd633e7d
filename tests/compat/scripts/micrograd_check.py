"""A scalar autograd engine written in the script, checked against torch the way the micrograd lecture does."""
import math
import random

import torch


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        out = Value(self.data**k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = (math.exp(2 * self.data) - 1) / (math.exp(2 * self.data) + 1)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad
        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def backward(self):
        topo, visited = [], set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()


def neuron_by_hand():
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.8813735870195432)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    return o.data, [x1.grad, w1.grad, x2.grad, w2.grad]


def neuron_in_torch():
    x1 = torch.Tensor([2.0]).double()
    x1.requires_grad = True
    x2 = torch.Tensor([0.0]).double()
    x2.requires_grad = True
    w1 = torch.Tensor([-3.0]).double()
    w1.requires_grad = True
    w2 = torch.Tensor([1.0]).double()
    w2.requires_grad = True
    b = torch.Tensor([6.8813735870195432]).double()
    b.requires_grad = True
    n = x1 * w1 + x2 * w2 + b
    o = torch.tanh(n)
    print(o.data.item())
    o.backward()
    print("---")
    print("x2", x2.grad.item())
    print("w2", w2.grad.item())
    return o.data.item(), [x1.grad.item(), w1.grad.item(), x2.grad.item(), w2.grad.item()]


def mlp_step():
    random.seed(1337)
    sizes = [3, 4, 4, 1]
    weights = [[[random.uniform(-1, 1) for _ in range(sizes[i])] for _ in range(sizes[i + 1])]
               for i in range(len(sizes) - 1)]
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]

    vw = [[[Value(w) for w in row] for row in layer] for layer in weights]
    params = [w for layer in vw for row in layer for w in row]
    for _ in range(5):
        preds = []
        for x in xs:
            act = [Value(v) for v in x]
            for layer in vw:
                act = [sum((wi * xi for wi, xi in zip(row, act)), Value(0.0)).tanh() for row in layer]
            preds.append(act[0])
        loss = sum(((yp - yt) ** 2 for yt, yp in zip(ys, preds)), Value(0.0))
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data += -0.05 * p.grad
    micro = loss.data

    tw = [torch.tensor(layer, dtype=torch.float64, requires_grad=True) for layer in weights]
    X = torch.tensor(xs).double()
    Y = torch.tensor(ys).double()
    for _ in range(5):
        act = X
        for W in tw:
            act = torch.tanh(act @ W.T)
        loss = ((act.squeeze(-1) - Y) ** 2).sum()
        for W in tw:
            W.grad = None
        loss.backward()
        for W in tw:
            W.data += -0.05 * W.grad
    return micro, loss.item(), loss.dtype == torch.float64


def main():
    by_hand, grads_by_hand = neuron_by_hand()
    in_torch, grads_in_torch = neuron_in_torch()
    agree = abs(by_hand - in_torch) < 1e-12 and all(abs(a - b) < 1e-12 for a, b in zip(grads_by_hand, grads_in_torch))
    micro, torch_loss, is_double = mlp_step()
    return {"o": in_torch, "grads": grads_in_torch, "agree": agree, "mlp_agree": abs(micro - torch_loss) < 1e-9,
            "loss": torch_loss, "double": is_double}
