"""Character bigrams the way the lecture notebooks count them, then the same model as a one-layer net."""
import numpy as np
import torch
import torch.nn.functional as F

REQUIRES = ("creation_generator",)  # chainrule features still being built elsewhere

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail",
         "emily", "ella", "elizabeth", "camila", "luna", "sofia", "avery", "mila", "aria", "scarlett"]


def main():
    chars = sorted(list(set("".join(WORDS))))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    V = len(stoi)

    N = torch.zeros((V, V), dtype=torch.int32)
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            N[stoi[ch1], stoi[ch2]] += 1
    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)
    rows_sum_to_one = torch.allclose(P.sum(1), torch.ones(V))

    log_likelihood = 0.0
    n = 0
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            prob = P[stoi[ch1], stoi[ch2]]
            logprob = torch.log(prob)
            log_likelihood += logprob
            n += 1
    nll = -log_likelihood
    counts_nll = (nll / n).item()

    g = torch.Generator().manual_seed(2147483647)
    sample = []
    ix = 0
    while True:
        p = P[ix]
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        if ix == 0:
            break
        sample.append(itos[ix])
    sampled_known_chars = all(c in stoi for c in sample)
    same_seed = torch.Generator().manual_seed(2147483647)
    again = torch.Generator().manual_seed(2147483647)
    reproducible = torch.equal(torch.rand(3, generator=same_seed), torch.rand(3, generator=again))
    W_random = torch.randn((V, V), generator=g, requires_grad=True)

    xs, ys = [], []
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            xs.append(stoi[ch1])
            ys.append(stoi[ch2])
    xs = torch.tensor(xs)
    ys = torch.tensor(ys)
    num = xs.nelement()
    rng = np.random.default_rng(2147483647 % 1000)
    W = torch.tensor(rng.standard_normal((V, V)), dtype=torch.float32, requires_grad=True)
    losses = []
    for _ in range(20):
        xenc = F.one_hot(xs, num_classes=V).float()
        logits = xenc @ W
        counts = logits.exp()
        probs = counts / counts.sum(1, keepdims=True)
        loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W**2).mean()
        losses.append(loss.item())
        W.grad = None
        loss.backward()
        W.data += -10 * W.grad
    return {"vocab": V, "count_a_to_dot": N[stoi["a"], 0].item(), "counts_nll": counts_nll,
            "rows_sum_to_one": rows_sum_to_one, "sampled_known_chars": sampled_known_chars,
            "reproducible": reproducible, "W_random_shape": list(W_random.shape),
            "W_random_is_leaf": W_random.is_leaf, "xenc_dtype": str(xenc.dtype).split(".")[-1],
            "num": num, "losses": losses}
