"""Embedding lookup: rows of a weight table; the VJP adds each gradient row back to its row
(repeated indices accumulate) and leaves the padding row's gradient at zero."""
from __future__ import annotations

from .registry import defop


def _embedding_vjp(F, g, xs, y, kw, need):
    idx, pad = kw["index"], kw["padding_idx"]
    if pad is not None:
        g = g * (idx != pad)[..., None].astype(g.dtype)
    return (F.index_add_zeros(g, kw["shape"], idx),)


EMBEDDING = defop("embedding", lambda w, index, padding_idx, shape: w[index], _embedding_vjp, saves="")
