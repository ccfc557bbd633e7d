"""Diagnostics from the lecture on activations and gradients: saturation, histograms, update:data ratios."""
import numpy as np
import torch
import torch.nn.functional as F

g = torch.Generator().manual_seed(2147483647)


class Linear:
    def __init__(self, fan_in, fan_out, bias=True):
        self.weight = torch.randn((fan_in, fan_out), generator=g) / fan_in**0.5
        self.bias = torch.zeros(fan_out) if bias else None

    def __call__(self, x):
        self.out = x @ self.weight
        if self.bias is not None:
            self.out += self.bias
        return self.out

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


class Tanh:
    def __call__(self, x):
        self.out = torch.tanh(x)
        return self.out

    def parameters(self):
        return []


def main():
    w = torch.empty(30, 20)
    torch.nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="tanh")
    gain = torch.nn.init.calculate_gain("tanh")

    n_embd, n_hidden, vocab_size, block_size = 6, 32, 12, 3
    C = torch.randn((vocab_size, n_embd), generator=g)
    layers = [Linear(n_embd * block_size, n_hidden), Tanh(), Linear(n_hidden, n_hidden), Tanh(),
              Linear(n_hidden, vocab_size)]
    rng = np.random.default_rng(3)
    with torch.no_grad():
        C.copy_(torch.from_numpy(rng.standard_normal((vocab_size, n_embd)).astype(np.float32)))
        for layer in layers:
            if isinstance(layer, Linear):
                fan_in = layer.weight.shape[0]
                layer.weight.copy_(torch.from_numpy(rng.standard_normal(tuple(layer.weight.shape))
                                                    .astype(np.float32)) * (5 / 3) / fan_in**0.5)
        layers[-1].weight *= 0.1
    parameters = [C] + [p for layer in layers for p in layer.parameters()]
    for p in parameters:
        p.requires_grad = True

    X = torch.from_numpy(rng.integers(0, vocab_size, (64, block_size)))
    Y = torch.from_numpy(rng.integers(0, vocab_size, 64))
    ud = []
    for _ in range(6):
        emb = C[X]
        x = emb.view(emb.shape[0], -1)
        for layer in layers:
            x = layer(x)
        loss = F.cross_entropy(x, Y)
        for layer in layers:
            layer.out.retain_grad()
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1
        for p in parameters:
            p.data += -lr * p.grad
        with torch.no_grad():
            ud.append([((lr * p.grad).std() / p.data.std()).log10().item() for p in parameters])

    stats = []
    for i, layer in enumerate(layers[:-1]):
        if isinstance(layer, Tanh):
            t = layer.out
            saturated = (t.abs() > 0.97).float().mean() * 100
            hy, hx = torch.histogram(t, density=True)
            stats.append([i, t.mean().item(), t.std().item(), saturated.item(), hy.shape[0], hx.shape[0],
                          hx[0].item(), hy.sum().item() * (hx[1] - hx[0]).item()])
            tg = layer.out.grad
            stats.append([tg.mean().item(), tg.std().item()])
    grads = []
    for p in parameters:
        t = p.grad
        if p.ndim == 2:
            grads.append([tuple(p.shape), t.mean().item(), t.std().item(), (t.std() / p.std()).item()])
    return {"kaiming_shape": list(w.shape), "gain": gain, "loss": loss.item(), "ud_last": ud[-1],
            "stats": stats, "grads": grads}
