"""A character-level decoder-only transformer written out by hand, as the "build GPT" lecture does it."""
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F

REQUIRES = ("creation_device", "tensor_to_device", "tensor_format")

batch_size = 8
block_size = 8
max_iters = 12
eval_interval = 6
learning_rate = 3e-3
device = "cuda" if torch.cuda.is_available() else "cpu"
eval_iters = 3
n_embd = 16
n_head = 2
n_layer = 2
dropout = 0.0

text = " ".join(["the quick brown fox jumps over the lazy dog"] * 4 + ["a stitch in time saves nine"] * 4)
chars = sorted(list(set(text)))
vocab_size = len(chars)
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for i, ch in enumerate(chars)}
encode = lambda s: [stoi[c] for c in s]  # noqa: E731 - the lecture's style
decode = lambda l: "".join([itos[i] for i in l])  # noqa: E731,E741

data = torch.tensor(encode(text), dtype=torch.long)
n = int(0.9 * len(data))
train_data = data[:n]
val_data = data[n:]
batch_rng = np.random.default_rng(1337)


def get_batch(split):
    data = train_data if split == "train" else val_data
    ix = torch.from_numpy(batch_rng.integers(0, len(data) - block_size, (batch_size,)))  # not torch.randint: the
    x = torch.stack([data[i:i + block_size] for i in ix])                               # streams differ
    y = torch.stack([data[i + 1:i + block_size + 1] for i in ix])
    x, y = x.to(device), y.to(device)
    return x, y


@torch.no_grad()
def estimate_loss(model):
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split)
            logits, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out


class Head(nn.Module):
    def __init__(self, head_size):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        B, T, C = x.shape
        k = self.key(x)
        q = self.query(x)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        wei = F.softmax(wei, dim=-1)
        wei = self.dropout(wei)
        v = self.value(x)
        out = wei @ v
        return out


class MultiHeadAttention(nn.Module):
    def __init__(self, num_heads, head_size):
        super().__init__()
        self.heads = nn.ModuleList([Head(head_size) for _ in range(num_heads)])
        self.proj = nn.Linear(head_size * num_heads, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        out = torch.cat([h(x) for h in self.heads], dim=-1)
        out = self.dropout(self.proj(out))
        return out


class FeedFoward(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),
            nn.ReLU(),
            nn.Linear(4 * n_embd, n_embd),
            nn.Dropout(dropout),
        )

    def forward(self, x):
        return self.net(x)


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        head_size = n_embd // n_head
        self.sa = MultiHeadAttention(n_head, head_size)
        self.ffwd = FeedFoward(n_embd)
        self.ln1 = nn.LayerNorm(n_embd)
        self.ln2 = nn.LayerNorm(n_embd)

    def forward(self, x):
        x = x + self.sa(self.ln1(x))
        x = x + self.ffwd(self.ln2(x))
        return x


class GPTLanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head=n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        tok_emb = self.token_embedding_table(idx)
        pos_emb = self.position_embedding_table(torch.arange(T, device=device))
        x = tok_emb + pos_emb
        x = self.blocks(x)
        x = self.ln_f(x)
        logits = self.lm_head(x)
        if targets is None:
            loss = None
        else:
            B, T, C = logits.shape
            logits = logits.view(B * T, C)
            targets = targets.view(B * T)
            loss = F.cross_entropy(logits, targets)
        return logits, loss

    def generate(self, idx, max_new_tokens, greedy=False):
        for _ in range(max_new_tokens):
            idx_cond = idx[:, -block_size:]
            logits, loss = self(idx_cond)
            logits = logits[:, -1, :]
            probs = F.softmax(logits, dim=-1)
            if greedy:
                idx_next = torch.argmax(probs, dim=-1, keepdim=True)
            else:
                idx_next = torch.multinomial(probs, num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


def main():
    torch.manual_seed(1337)
    model = GPTLanguageModel()
    init = np.random.default_rng(0)
    with torch.no_grad():  # the same start on both libraries (their random streams differ)
        for _name, p in model.named_parameters():
            if p.dim() == 2:
                p.copy_(torch.from_numpy(init.normal(0.0, 0.2, tuple(p.shape)).astype(np.float32)))
    m = model.to(device)
    print(sum(p.numel() for p in m.parameters()) / 1e6, "M parameters")
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    evals = []
    for iter in range(max_iters):
        if iter % eval_interval == 0 or iter == max_iters - 1:
            losses = estimate_loss(model)
            print(f"step {iter}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
            evals.append([losses["train"].item(), losses["val"].item()])
        xb, yb = get_batch("train")
        logits, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    context = torch.zeros((1, 1), dtype=torch.long, device=device)
    sampled = m.generate(context, max_new_tokens=12)[0].tolist()
    greedy = decode(m.generate(context, max_new_tokens=12, greedy=True)[0].tolist())
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "gpt.pt")
        torch.save(model.state_dict(), path)
        again = GPTLanguageModel()
        again.load_state_dict(torch.load(path, map_location=device))
        again.eval()
        model.eval()
        xb, _ = get_batch("val")
        same = torch.equal(again(xb)[0], model(xb)[0])
    return {"vocab_size": vocab_size, "n_params": sum(p.numel() for p in m.parameters()), "evals": evals,
            "loss": loss.item(), "sampled_len": len(sampled),
            "sampled_in_vocab": all(0 <= i < vocab_size for i in sampled), "greedy": greedy, "reloaded_same": same,
            "buffers": sorted(k for k in model.state_dict() if "tril" in k)[:2]}
