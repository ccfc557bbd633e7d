"""Channel dropout (dropout1d/2d), bilinear and embedding_bag: composed of table ops."""
from __future__ import annotations

from .. import random
from ..backend import xp
from ..errors import ShapeError
from ..ops.reduce import amax
from ..ops.shape import stack
from ..tensor import Tensor

__all__ = ["bilinear", "dropout1d", "dropout2d", "embedding_bag"]


def _channel_dropout(input: Tensor, p: float, training: bool, dims: tuple, op: str) -> Tensor:
    """Zero whole channels (every position of a (sample, channel)) with probability p, scale the rest by 1/(1 − p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    x = input if isinstance(input, Tensor) else Tensor.of(input)
    d = x._data
    if d.ndim not in dims:
        raise ShapeError(f"{op}: expects a {' or '.join(f'{n}-D' for n in dims)} input, got shape {tuple(d.shape)}")
    if not training or p == 0.0:
        return x
    batched = d.ndim == dims[-1]
    lead = d.shape[:2] if batched else d.shape[:1]
    shape = lead + (1,) * (d.ndim - len(lead))
    keep = random.generator().random(shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return x * Tensor._make((keep * scale).astype(d.dtype), None)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Over (N, C, L) or (C, L)."""
    return _channel_dropout(input, p, training, (2, 3), "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Over (N, C, H, W); a 3-D input is taken as (N, C, L), as PyTorch does (with its warning)."""
    x = input if isinstance(input, Tensor) else Tensor.of(input)
    if x._data.ndim == 3:
        return _channel_dropout(x, p, training, (2, 3), "dropout2d")
    return _channel_dropout(x, p, training, (3, 4), "dropout2d")


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_o = x1ᵀ W_o x2 + b_o for weight (out, in1, in2), over any leading axes."""
    x1, x2, w = input1._data, input2._data, weight._data
    if w.ndim != 3 or x1.shape[-1:] != w.shape[1:2] or x2.shape[-1:] != w.shape[2:] or x1.shape[:-1] != x2.shape[:-1]:
        raise ShapeError(f"bilinear: input1 {tuple(x1.shape)} and input2 {tuple(x2.shape)} must agree in their "
                         f"leading axes and end in in1 and in2 of weight (out, in1, in2) {tuple(w.shape)}")
    o, i1, i2 = w.shape
    u = input1 @ weight.permute(1, 0, 2).reshape(i1, o * i2)  # (..., out·in2)
    y = (u.reshape(*x1.shape[:-1], o, i2) * input2.unsqueeze(-2)).sum(-1)
    return y if bias is None else y + bias


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm=None, norm_type=2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """The sum, mean or max of each bag of embedding rows: bags are the rows of a 2-D ``input``, or the
    slices of a 1-D one that ``offsets`` starts; ``padding_idx`` entries count for nothing."""
    from .functional import embedding

    op = "embedding_bag"
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode must be 'sum', 'mean' or 'max', not {mode!r}")
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError(f"{op}: max_norm, scale_grad_by_freq and sparse are not supported")
    idx = input._data if isinstance(input, Tensor) else xp.asarray(input)
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: offsets must be None when input is 2-D (each row is a bag), got offsets")
        starts = xp.arange(idx.shape[0]) * idx.shape[1]
        n_bags, flat = idx.shape[0], idx.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError(f"{op}: offsets are needed when input is 1-D")
        starts = (offsets._data if isinstance(offsets, Tensor) else xp.asarray(offsets)).astype(xp.int64)
        if include_last_offset:
            if starts.size == 0 or starts[-1] != idx.size:
                raise ValueError(f"{op}: with include_last_offset the last offset must be the input's length "
                                 f"{idx.size}")
            starts = starts[:-1]
        if starts.ndim != 1 or (starts.size and (starts[0] != 0 or (xp.diff(starts) < 0).any()
                                                 or starts[-1] > idx.size)):
            raise ValueError(f"{op}: offsets must be 1-D, start at 0 and never decrease or pass the input's "
                             f"length {idx.size}; got {starts.tolist()[:8]}")
        n_bags, flat = starts.size, idx
    else:
        raise ShapeError(f"{op}: input must be 1-D (with offsets) or 2-D (B, N), got shape {tuple(idx.shape)}")
    v = weight._data.shape[0]
    pad = None if padding_idx is None else padding_idx % v
    bag = xp.searchsorted(starts, xp.arange(flat.size), side="right") - 1
    keep = xp.ones(flat.size, bool) if pad is None else flat != pad
    rows = embedding(Tensor._make(flat.astype(xp.int64), None), weight)
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError(f"{op}: per_sample_weights are only supported for mode='sum', not {mode!r}")
        if tuple(per_sample_weights._data.shape) != tuple(idx.shape):
            raise ShapeError(f"{op}: per_sample_weights must have the input's shape {tuple(idx.shape)}, got "
                             f"{tuple(per_sample_weights._data.shape)}")
        rows = rows * per_sample_weights.reshape(-1, 1)
    if mode == "max":
        out = [amax(rows[xp.nonzero((bag == b) & keep)[0]], axis=0) if ((bag == b) & keep).any()
               else Tensor._make(xp.zeros(weight._data.shape[1], weight._data.dtype), None) for b in range(n_bags)]
        return stack(out, 0) if out else Tensor._make(xp.zeros((0, weight._data.shape[1]), weight._data.dtype), None)
    m = xp.zeros((n_bags, flat.size), dtype=weight._data.dtype)
    m[bag[keep], xp.nonzero(keep)[0]] = 1.0
    if mode == "mean":
        counts = m.sum(1, keepdims=True)
        m = m / xp.maximum(counts, 1)
    return Tensor._make(m, None) @ rows
