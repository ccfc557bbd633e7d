"""Bag-of-embeddings text classifier: padding_idx, masked mean pooling, ModuleList, cat, param groups."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, DIM, PAD = 20, 6, 0


class BagClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, DIM, padding_idx=PAD)
        self.layers = nn.ModuleList([nn.Linear(2 * DIM, 8), nn.Linear(8, 2)])

    def forward(self, tokens):
        mask = (tokens != PAD).float().unsqueeze(-1)
        e = self.emb(tokens)
        mean = (e * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        top = (e + (mask - 1.0) * 1e4).amax(dim=1)
        h = torch.cat([mean, top], dim=1)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = torch.tanh(h)
        return h


def main():
    rng = np.random.default_rng(11)
    model = BagClassifier()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy((rng.standard_normal(tuple(p.shape)) * 0.3).astype(np.float32)))
        model.emb.weight[PAD] = 0.0
    lengths = rng.integers(1, 6, 10)
    tokens = np.zeros((10, 6), dtype=np.int64)
    for i, n in enumerate(lengths):
        tokens[i, :n] = rng.integers(1, VOCAB, n)
    tokens = torch.from_numpy(tokens)
    labels = torch.from_numpy((lengths > 3).astype(np.int64))
    opt = torch.optim.RMSprop([{"params": model.emb.parameters(), "lr": 0.05},
                               {"params": model.layers.parameters()}], lr=0.01)
    losses = []
    for _ in range(12):
        opt.zero_grad()
        loss = F.cross_entropy(model(tokens), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return {"losses": losses, "pad_row": model.emb.weight[PAD].tolist(),
            "pad_grad_zero": bool((model.emb.weight.grad[PAD] == 0).all())}
