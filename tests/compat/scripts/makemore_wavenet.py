"""A WaveNet-style hierarchy with hand-made layer classes (``__call__`` and ``parameters()``), as the lectures do."""
import numpy as np
import torch
import torch.nn.functional as F

REQUIRES = ("creation_generator",)  # chainrule features still being built elsewhere

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper", "evelyn",
         "abigail", "emily", "elizabeth", "mila", "ella", "avery", "sofia", "camila", "aria", "scarlett",
         "victoria", "madison", "luna", "grace", "chloe", "penelope", "layla", "riley", "zoey", "nora"]
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


class BatchNorm1d:
    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps = eps
        self.momentum = momentum
        self.training = True
        self.gamma = torch.ones(dim)
        self.beta = torch.zeros(dim)
        self.running_mean = torch.zeros(dim)
        self.running_var = torch.ones(dim)

    def __call__(self, x):
        if self.training:
            if x.ndim == 2:
                dim = 0
            elif x.ndim == 3:
                dim = (0, 1)
            xmean = x.mean(dim, keepdim=True)
            xvar = x.var(dim, keepdim=True)
        else:
            xmean = self.running_mean
            xvar = self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)
        self.out = self.gamma * xhat + self.beta
        if self.training:
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
        return self.out

    def parameters(self):
        return [self.gamma, self.beta]


class Tanh:
    def __call__(self, x):
        self.out = torch.tanh(x)
        return self.out

    def parameters(self):
        return []


class Embedding:
    def __init__(self, num_embeddings, embedding_dim):
        self.weight = torch.randn((num_embeddings, embedding_dim), generator=g)

    def __call__(self, IX):
        self.out = self.weight[IX]
        return self.out

    def parameters(self):
        return [self.weight]


class FlattenConsecutive:
    def __init__(self, n):
        self.n = n

    def __call__(self, x):
        B, T, C = x.shape
        x = x.view(B, T // self.n, C * self.n)
        if x.shape[1] == 1:
            x = x.squeeze(1)
        self.out = x
        return self.out

    def parameters(self):
        return []


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        self.out = x
        return self.out

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def build_dataset(words, stoi, block_size):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


def main():
    chars = sorted(list(set("".join(WORDS))))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    vocab_size = len(stoi)
    block_size = 8
    Xtr, Ytr = build_dataset(WORDS, stoi, block_size)

    n_embd, n_hidden = 6, 24
    model = Sequential([
        Embedding(vocab_size, n_embd),
        FlattenConsecutive(2), Linear(n_embd * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        Linear(n_hidden, vocab_size),
    ])
    rng = np.random.default_rng(1)
    with torch.no_grad():
        for layer in model.layers:  # the libraries' random streams differ: same numbers from NumPy
            if isinstance(layer, (Linear, Embedding)):
                fan_in = layer.weight.shape[0] if isinstance(layer, Linear) else 1
                layer.weight.copy_(torch.from_numpy(rng.standard_normal(tuple(layer.weight.shape)).astype(np.float32))
                                   / fan_in**0.5)
        model.layers[-1].weight *= 0.1
    parameters = model.parameters()
    print(sum(p.nelement() for p in parameters))
    for p in parameters:
        p.requires_grad = True

    ix = torch.randint(0, Xtr.shape[0], (4,), generator=g)
    Xb = Xtr[torch.arange(4)]  # not Xtr[ix]: the libraries' random streams differ
    shapes = []
    model(Xb)
    for layer in model.layers:
        shapes.append([layer.__class__.__name__, list(layer.out.shape)])

    batch_rng = np.random.default_rng(2)
    lossi = []
    for i in range(25):
        ix = torch.from_numpy(batch_rng.integers(0, Xtr.shape[0], 32))
        Xb, Yb = Xtr[ix], Ytr[ix]
        logits = model(Xb)
        loss = F.cross_entropy(logits, Yb)
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 20 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        lossi.append(loss.item())
    lossi_mean = torch.tensor(lossi[:24]).view(-1, 4).mean(1).tolist()

    for layer in model.layers:
        layer.training = False
    with torch.no_grad():
        logits = model(Xtr)
        eval_loss = F.cross_entropy(logits, Ytr).item()
        e = model.layers[0](Xtr[:2])
        flat = torch.squeeze(FlattenConsecutive(8)(e), dim=1)
    bn = model.layers[3]
    return {"shapes": shapes, "lossi": lossi, "lossi_mean": lossi_mean, "eval_loss": eval_loss,
            "running_mean": bn.running_mean[0, 0, :3].tolist(), "running_var": bn.running_var[0, 0, :3].tolist(),
            "flat_shape": list(flat.shape), "ix_shape": list(ix.shape)}
