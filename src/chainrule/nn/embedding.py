"""Embedding: a trainable lookup table, weight (num_embeddings, embedding_dim) ~ N(0, 1)."""
from __future__ import annotations

from .. import arguments as arg
from ..creation import empty
from ..errors import ShapeError
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, _check_device
from .parameter import Parameter


class Embedding(Module):
    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, *, device=None, dtype=None) -> None:
        super().__init__()
        _check_device(device)
        num_embeddings = arg.integer("Embedding", "num_embeddings", num_embeddings, 1)
        embedding_dim = arg.integer("Embedding", "embedding_dim", embedding_dim, 1)
        if max_norm is not None:
            raise NotImplementedError("Embedding: max_norm is not supported")
        if padding_idx is not None:
            padding_idx = arg.integer("Embedding", "padding_idx", padding_idx)
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                                 f"{num_embeddings}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None) -> "Embedding":
        """An Embedding holding a copy of ``embeddings`` (num, dim); frozen (no gradient) by default."""
        if embeddings.ndim != 2:
            raise ShapeError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {embeddings.shape}")
        emb = cls(*embeddings.shape, padding_idx=padding_idx, dtype=embeddings.dtype)
        emb.weight._data[...] = embeddings._data
        emb.weight.requires_grad_(not freeze)
        return emb

    def forward(self, idx: Tensor) -> Tensor:
        return F.embedding(idx, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else s + f", padding_idx={self.padding_idx}"
