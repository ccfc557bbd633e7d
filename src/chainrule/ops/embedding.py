"""Embedding lookup: rows of a weight table; the VJP adds each gradient row back to its row
(repeated indices accumulate) and leaves the padding row's gradient at zero."""
from __future__ import annotations

from ..backend import xp
from .registry import Case, defop


def _embedding_vjp(F, g, xs, y, kw, need):
    idx, pad = kw["index"], kw["padding_idx"]
    if pad is not None:
        g = g * (idx != pad)[..., None].astype(g.dtype)
    return (F.index_add_zeros(g, kw["shape"], idx),)


_IDX = xp.array([[0, 2], [2, 4]])
EMBEDDING = defop("embedding", lambda w, index, padding_idx, shape: w[index], _embedding_vjp, saves="", test=[
    Case(lambda t, w: t.nn.functional.embedding(t.tensor(_IDX), w), shapes=[(5, 3)], call=lambda w: _embed(w, None)),
    Case(lambda t, w: t.nn.functional.embedding(t.tensor(_IDX), w, padding_idx=2), shapes=[(5, 3)],
         call=lambda w: _embed(w, 2), fd=False),  # the padding row's gradient is 0 by definition, not by calculus
])


def _embed(w, padding_idx):
    from ..nn.functional import embedding

    return embedding(_IDX, w, padding_idx)
