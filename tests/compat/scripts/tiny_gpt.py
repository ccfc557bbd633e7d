"""A decoder-only transformer learns a toy sequence task (next token of a counting sequence)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, CONTEXT, D_MODEL = 11, 8, 16


class TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, D_MODEL)
        self.pos = nn.Embedding(CONTEXT, D_MODEL)
        layer = nn.TransformerEncoderLayer(D_MODEL, nhead=2, dim_feedforward=32, dropout=0.0, batch_first=True,
                                           norm_first=True, activation="gelu")
        self.blocks = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.ln_f = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, VOCAB)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        x = self.tok(idx) + self.pos(torch.arange(T))
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        x = self.blocks(x, mask=mask, is_causal=True)
        logits = self.head(self.ln_f(x))
        loss = None if targets is None else F.cross_entropy(logits.reshape(B * T, VOCAB), targets.reshape(B * T))
        return logits, loss


def batch(rng, n=8):
    start = rng.integers(0, VOCAB, size=(n, 1))
    seq = (start + np.arange(CONTEXT + 1)) % VOCAB
    return torch.from_numpy(seq[:, :-1]), torch.from_numpy(seq[:, 1:])


def main():
    model = TinyGPT()
    rng = np.random.default_rng(5)
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.0 if name.endswith("bias") else 0.3
            p.copy_(torch.from_numpy((rng.standard_normal(tuple(p.shape)) * scale).astype(np.float32)))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    data = np.random.default_rng(6)
    losses = []
    for _ in range(30):
        xb, yb = batch(data)
        _, loss = model(xb, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0], losses
    xb, yb = batch(np.random.default_rng(7))
    with torch.no_grad():
        logits, _ = model(xb)
        acc = (logits.argmax(-1) == yb).float().mean().item()
    return {"losses": losses, "accuracy": acc, "params": sum(p.numel() for p in model.parameters())}
