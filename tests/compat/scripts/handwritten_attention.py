"""Causal self-attention written out by hand (view, transpose, masked_fill, tril), trained a few steps."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REQUIRES = ("view", "masked_fill", "tril", "split", "contiguous")

T, C, H = 6, 8, 2


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.register_buffer("bias", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def forward(self, x):
        B, T_, C_ = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        k = k.view(B, T_, H, C_ // H).transpose(1, 2)
        q = q.view(B, T_, H, C_ // H).transpose(1, 2)
        v = v.view(B, T_, H, C_ // H).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T_, :T_] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T_, C_)
        return self.c_proj(y)


def main():
    model = CausalSelfAttention()
    rng = np.random.default_rng(9)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy((rng.standard_normal(tuple(p.shape)) * 0.3).astype(np.float32)))
    x = torch.from_numpy(rng.standard_normal((3, T, C)).astype(np.float32))
    target = torch.from_numpy(rng.standard_normal((3, T, C)).astype(np.float32))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(10):
        loss = F.mse_loss(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    sdpa = F.scaled_dot_product_attention(x.view(3, T, H, C // H).transpose(1, 2),
                                          x.view(3, T, H, C // H).transpose(1, 2),
                                          x.view(3, T, H, C // H).transpose(1, 2), is_causal=True)
    return {"losses": losses, "sdpa_sum": sdpa.sum().item()}
