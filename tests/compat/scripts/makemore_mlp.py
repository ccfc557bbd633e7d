"""A character MLP language model as the lecture notebooks build it: embedding table, tanh, batch norm by hand."""
import numpy as np
import torch
import torch.nn.functional as F

REQUIRES = ("creation_generator",)  # chainrule features still being built elsewhere

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper", "evelyn",
         "abigail", "emily", "elizabeth", "mila", "ella", "avery", "sofia", "camila", "aria", "scarlett",
         "victoria", "madison", "luna", "grace", "chloe", "penelope", "layla", "riley", "zoey", "nora"]
block_size = 3


def build_dataset(words, stoi):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    return X, Y


def main():
    chars = sorted(list(set("".join(WORDS))))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    vocab_size = len(itos)
    n1 = int(0.8 * len(WORDS))
    Xtr, Ytr = build_dataset(WORDS[:n1], stoi)
    Xdev, Ydev = build_dataset(WORDS[n1:], stoi)

    n_embd, n_hidden = 10, 64
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((vocab_size, n_embd), generator=g)
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * (5 / 3) / ((n_embd * block_size) ** 0.5)
    W2 = torch.randn((n_hidden, vocab_size), generator=g) * 0.01
    b2 = torch.randn(vocab_size, generator=g) * 0
    bngain = torch.ones((1, n_hidden))
    bnbias = torch.zeros((1, n_hidden))
    bnmean_running = torch.zeros((1, n_hidden))
    bnstd_running = torch.ones((1, n_hidden))
    parameters = [C, W1, W2, b2, bngain, bnbias]
    rng = np.random.default_rng(42)
    with torch.no_grad():
        for p, scale in [(C, 1.0), (W1, (5 / 3) / 30**0.5), (W2, 0.01)]:  # the libraries' random streams differ
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32)) * scale)
    print(sum(p.nelement() for p in parameters))
    for p in parameters:
        p.requires_grad = True

    lre = torch.linspace(-3, 0, 100)
    lrs = 10**lre
    check = torch.randint(0, Xtr.shape[0], (32,), generator=g)
    batch_rng = np.random.default_rng(7)
    lossi = []
    for i in range(30):
        ix = torch.from_numpy(batch_rng.integers(0, Xtr.shape[0], 32))
        Xb, Yb = Xtr[ix], Ytr[ix]
        emb = C[Xb]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1
        bnmeani = hpreact.mean(0, keepdim=True)
        bnstdi = hpreact.std(0, keepdim=True)
        hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
        with torch.no_grad():
            bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani
            bnstd_running = 0.999 * bnstd_running + 0.001 * bnstdi
        h = torch.tanh(hpreact)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Yb)
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = lrs[60 + i].item() if i < 20 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        lossi.append(loss.log10().item())

    @torch.no_grad()
    def split_loss(split):
        x, y = {"train": (Xtr, Ytr), "val": (Xdev, Ydev)}[split]
        emb = C[x]
        embcat = emb.view(-1, n_embd * block_size)
        hpreact = embcat @ W1
        hpreact = bngain * (hpreact - bnmean_running) / bnstd_running + bnbias
        h = torch.tanh(hpreact)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, y)
        return loss.item()

    context = [0] * block_size
    greedy = []
    with torch.no_grad():
        for _ in range(8):
            emb = C[torch.tensor([context])]
            h = torch.tanh(bngain * (emb.view(1, -1) @ W1 - bnmean_running) / bnstd_running + bnbias)
            logits = h @ W2 + b2
            probs = F.softmax(logits, dim=1)
            ix = torch.argmax(probs, dim=1).item()
            context = context[1:] + [ix]
            if ix == 0:
                break
            greedy.append(itos[ix])
        sample = torch.multinomial(probs, num_samples=1, generator=g)
    return {"Xtr": list(Xtr.shape), "Xdev": list(Xdev.shape), "lossi": lossi, "train": split_loss("train"),
            "val": split_loss("val"), "lr_60": lrs[60].item(), "greedy": "".join(greedy),
            "check_range": bool(((check >= 0) & (check < Xtr.shape[0])).all()),
            "check_dtype": check.dtype == torch.int64,
            "sample_shape": list(sample.shape), "bnmean": bnmean_running[0, :4].tolist(),
            "bnstd": bnstd_running[0, :4].tolist()}
