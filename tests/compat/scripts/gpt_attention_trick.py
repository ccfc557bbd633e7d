"""The "mathematical trick in self-attention" cells of the build-GPT lecture, and its bigram model with generate()."""
import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F


class BigramLanguageModel(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)

    def forward(self, idx, targets=None):
        logits = self.token_embedding_table(idx)
        if targets is None:
            loss = None
        else:
            B, T, C = logits.shape
            logits = logits.view(B * T, C)
            targets = targets.view(B * T)
            loss = F.cross_entropy(logits, targets)
        return logits, loss

    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            logits, loss = self(idx)
            logits = logits[:, -1, :]
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


def main():
    torch.manual_seed(42)
    a = torch.tril(torch.ones(3, 3))
    a = a / torch.sum(a, 1, keepdim=True)
    b = torch.randint(0, 10, (3, 2)).float()
    c = a @ b
    b_fixed = torch.tensor([[2., 7.], [6., 4.], [6., 5.]])

    torch.manual_seed(1337)
    B, T, C = 4, 8, 2
    x = torch.randn(B, T, C)
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((B, T, C)).astype(np.float32))  # same on both
    xbow = torch.zeros((B, T, C))
    for b_ in range(B):
        for t in range(T):
            xprev = x[b_, :t + 1]
            xbow[b_, t] = torch.mean(xprev, 0)
    wei = torch.tril(torch.ones(T, T))
    wei = wei / wei.sum(1, keepdim=True)
    xbow2 = wei @ x
    tril = torch.tril(torch.ones(T, T))
    wei = torch.zeros((T, T))
    wei = wei.masked_fill(tril == 0, float("-inf"))
    wei = F.softmax(wei, dim=-1)
    xbow3 = wei @ x

    head_size = 16
    key = nn.Linear(C, head_size, bias=False)
    query = nn.Linear(C, head_size, bias=False)
    rng = np.random.default_rng(1)
    with torch.no_grad():
        for lin in (key, query):
            lin.weight.copy_(torch.from_numpy(rng.standard_normal(tuple(lin.weight.shape)).astype(np.float32)))
    k, q = key(x), query(x)
    wei = q @ k.transpose(-2, -1) * head_size**-0.5
    wei = wei.masked_fill(tril == 0, float("-inf"))
    wei = F.softmax(wei, dim=-1)

    text = "hello world, hello there"
    chars = sorted(list(set(text)))
    stoi = {ch: i for i, ch in enumerate(chars)}
    itos = {i: ch for i, ch in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    xb = torch.stack([data[i:i + 6] for i in (0, 5, 10)])
    yb = torch.stack([data[i + 1:i + 7] for i in (0, 5, 10)])
    m = BigramLanguageModel(len(chars))
    with torch.no_grad():
        m.token_embedding_table.weight.copy_(
            torch.from_numpy(rng.standard_normal((len(chars), len(chars))).astype(np.float32)))
    logits, loss = m(xb, yb)
    optimizer = torch.optim.AdamW(m.parameters(), lr=1e-1)
    for _ in range(20):
        logits, loss = m(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    out = m.generate(idx=torch.zeros((1, 1), dtype=torch.long), max_new_tokens=10)[0].tolist()
    text_out = "".join(itos[i] for i in out)
    return {"a": a.tolist(), "c_shape": list(c.shape), "b_is_float": b.dtype == torch.float32,
            "c_fixed": (a @ b_fixed).tolist(), "bow_agree": torch.allclose(xbow, xbow2, atol=1e-6),
            "bow3_agree": torch.allclose(xbow2, xbow3, atol=1e-6), "xbow_row": xbow[0, 3].tolist(),
            "attention_row": wei[0, 2].tolist(), "k_var": k.var().item(), "logits_shape": list(logits.shape),
            "loss": loss.item(), "generated_len": len(text_out), "generated_from_vocab": set(text_out) <= set(chars)}
