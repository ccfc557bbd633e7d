"""Attention: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention``, composed from existing ops.

softmax(q kᵀ · scale + mask) v, with masks applied by ``where`` (its VJP
selects, so a masked score gets an exact zero gradient). PyTorch's two mask
conventions are kept as they are: for ``scaled_dot_product_attention`` a
boolean ``True`` means "may attend"; for ``MultiheadAttention`` it means
"masked out". A float mask is added to the scores in both.
"""
from __future__ import annotations

import math

from ..backend import xp
from ..errors import ShapeError
from ..functional import dropout, linear
from ..ops import matmul, softmax, where
from ..tensor import Tensor
from . import init
from .linear import Linear
from .module import Module, _check_device
from .parameter import Parameter

_NEG_INF = float("-inf")


def _as_mask(mask, op: str) -> Tensor:
    if isinstance(mask, Tensor):
        return mask
    arr = xp.asarray(mask.detach().cpu().numpy() if hasattr(mask, "detach") else mask)
    return Tensor._make(arr, None)


def _masked(scores: Tensor, mask, keep_if_true: bool, op: str) -> Tensor:
    """Scores with ``mask`` applied: a bool mask by selection (-inf where excluded), a float mask added."""
    mask = _as_mask(mask, op)
    if mask.dtype == xp.bool_:
        keep = mask if keep_if_true else Tensor._make(~mask.numpy(), None)
        return where(keep, scores, Tensor._make(xp.asarray(_NEG_INF, dtype=scores.dtype), None))
    if mask.dtype.kind != "f":
        raise TypeError(f"{op}: attn_mask must be bool or floating point, got {mask.dtype}")
    if mask.dtype != scores.dtype:
        raise TypeError(f"{op}: a float attn_mask must have the query's dtype {scores.dtype}, got {mask.dtype} "
                        f"(use mask.to({scores.dtype}))")
    return scores + mask


def _causal(L: int, S: int) -> Tensor:
    """True on and below the diagonal: position i attends to positions 0..i (PyTorch's top-left alignment)."""
    return Tensor._make(xp.tril(xp.ones((L, S), dtype=xp.bool_)), None)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(q kᵀ · scale + mask) v over the last two axes; q (..., L, E), k (..., S, E), v (..., S, Ev)."""
    op = "scaled_dot_product_attention"
    if enable_gqa:
        raise NotImplementedError(f"{op}: enable_gqa=True is not supported; repeat the key/value heads instead")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ShapeError(f"{op}: query, key and value need at least 2 dimensions, got shapes "
                         f"{query.shape}, {key.shape}, {value.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"{op}: query {query.shape}, key {key.shape} and value {value.shape} do not fit: query and "
                         "key need the same last size, key and value the same sequence length")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{op}: give either attn_mask or is_causal=True, not both (as PyTorch)")
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        scores = _masked(scores, _causal(L, S), True, op)
    elif attn_mask is not None:
        scores = _masked(scores, attn_mask, True, op)
    weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, value)


class MultiheadAttention(Module):
    """PyTorch's MultiheadAttention with its parameter names (in_proj_weight, in_proj_bias, out_proj.*).

    Returns ``(output, weights)``; weights are averaged over heads unless
    ``average_attn_weights=False``, and None with ``need_weights=False``.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        _check_device(device)
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be positive and divisible by "
                             f"num_heads ({num_heads})")
        for flag, name in ((add_bias_kv, "add_bias_kv"), (add_zero_attn, "add_zero_attn"),
                           (kdim not in (None, embed_dim), "kdim != embed_dim"),
                           (vdim not in (None, embed_dim), "vdim != embed_dim")):
            if flag:
                raise NotImplementedError(f"MultiheadAttention: {name} is not supported")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.head_dim = embed_dim // num_heads
        self.batch_first = batch_first
        self.in_proj_weight = Parameter(xp.empty((3 * embed_dim, embed_dim), dtype=dtype or xp.float32))
        if bias:
            self.in_proj_bias = Parameter(xp.zeros(3 * embed_dim, dtype=dtype or xp.float32))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        op = "MultiheadAttention"
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = (t.unsqueeze(1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = _as_mask(key_padding_mask, op).unsqueeze(0)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        if query.ndim != 3 or key.ndim != 3 or value.ndim != 3 or query.shape[-1] != self.embed_dim:
            raise ShapeError(f"{op}: expected query/key/value of shape (L, N, {self.embed_dim}) "
                             f"({'(N, L, E) with batch_first' if self.batch_first else 'sequence first'}), got "
                             f"{query.shape}, {key.shape}, {value.shape}")
        if key.shape != value.shape:
            raise ShapeError(f"{op}: key {key.shape} and value {value.shape} must have the same shape")
        if is_causal and attn_mask is None:
            raise RuntimeError(f"{op}: need attn_mask if specifying the is_causal hint (as PyTorch)")
        L, N, E = query.shape
        S, H, D = key.shape[0], self.num_heads, self.head_dim
        w, b = self.in_proj_weight, self.in_proj_bias
        q, k, v = (linear(x, w[i * E:(i + 1) * E], None if b is None else b[i * E:(i + 1) * E])
                   for i, x in enumerate((query, key, value)))
        # (T, N, E) -> (N, H, T, D): one batch of heads
        q, k, v = (t.reshape(t.shape[0], N, H, D).permute(1, 2, 0, 3) for t in (q, k, v))
        scores = matmul(q * (1.0 / math.sqrt(D)), k.transpose(-2, -1))  # (N, H, L, S)
        if attn_mask is not None:
            mask = _as_mask(attn_mask, op)
            if mask.ndim == 3:
                if mask.shape != (N * H, L, S):
                    raise ShapeError(f"{op}: a 3-D attn_mask must have shape {(N * H, L, S)}, got {mask.shape}")
                mask = mask.reshape(N, H, L, S)
            elif mask.shape != (L, S):
                raise ShapeError(f"{op}: a 2-D attn_mask must have shape {(L, S)}, got {mask.shape}")
            scores = _masked(scores, mask, False, op)
        if key_padding_mask is not None:
            kpm = _as_mask(key_padding_mask, op)
            if kpm.shape != (N, S):
                raise ShapeError(f"{op}: key_padding_mask must have shape {(N, S)}, got {kpm.shape}")
            scores = _masked(scores, kpm.reshape(N, 1, 1, S), False, op)
        weights = softmax(scores, -1)
        if self.dropout > 0.0:
            weights = dropout(weights, self.dropout, training=self.training)
        out = matmul(weights, v).permute(2, 0, 1, 3).reshape(L, N, E)  # (L, N, E)
        out = self.out_proj(out)
        if self.batch_first and not unbatched:
            out = out.transpose(0, 1)
        if unbatched:
            out = out.squeeze(1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        if unbatched:
            weights = weights.squeeze(0)
        return out, weights

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        # PyTorch prints only the output projection under MultiheadAttention (its Linear is a subclass name)
        body = repr(self.out_proj).replace("Linear(", "NonDynamicallyQuantizableLinear(", 1)
        return f"MultiheadAttention(\n  (out_proj): {body}\n)"
