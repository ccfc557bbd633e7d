"""A bidirectional LSTM tagger over padded batches: pack_padded_sequence, LSTM(batch_first), pad_packed_sequence,
h_n of each sequence's own last step, Adam, gradient clipping, print(model)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

VOCAB, EMB, HID, TAGS = 12, 5, 6, 3


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, EMB, padding_idx=0)
        self.lstm = nn.LSTM(EMB, HID, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * HID, TAGS)
        self.cls = nn.Linear(2 * HID, 2)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.emb(tokens), lengths, batch_first=True, enforce_sorted=False)
        out, (h_n, c_n) = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True)
        summary = torch.cat([h_n[-2], h_n[-1]], dim=1)  # last layer, both directions
        return self.head(out), self.cls(summary)


def main():
    rng = np.random.default_rng(21)
    model = Tagger()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy((rng.standard_normal(tuple(p.shape)) * 0.3).astype(np.float32)))
    lengths = torch.tensor([4, 6, 2, 5])
    tokens = np.zeros((4, 6), dtype=np.int64)
    tags = np.full((4, 6), -100, dtype=np.int64)
    for i, n in enumerate(lengths.tolist()):
        tokens[i, :n] = rng.integers(1, VOCAB, n)
        tags[i, :n] = tokens[i, :n] % TAGS
    tokens, tags = torch.from_numpy(tokens), torch.from_numpy(tags)
    labels = (lengths > 3).long()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(6):
        opt.zero_grad()
        tag_scores, cls_scores = model(tokens, lengths)
        loss = F.cross_entropy(tag_scores.reshape(-1, TAGS), tags[:, :tag_scores.shape[1]].reshape(-1)) + \
            F.cross_entropy(cls_scores, labels)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return {"losses": losses, "norm": float(norm), "out_len": int(tag_scores.shape[1]), "model": str(model),
            "keys": list(model.state_dict())}
