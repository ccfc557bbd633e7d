"""``cr.nn.functional``: the functional forms of the layers (PyTorch's ``torch.nn.functional``).

Losses and activations live in ``chainrule.functional`` and are re-exported
here; this module adds the layer functions that take geometry arguments
(convolution, pooling, normalisation, embedding) and checks them.
"""
from __future__ import annotations

import math

from ..backend import xp
from ..errors import DTypeError, ShapeError
from ..functional import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    dropout,
    gelu,
    l1_loss,
    leaky_relu,
    linear,
    log_softmax,
    mse_loss,
    nll_loss,
    one_hot,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from ..ops.axes import check_indices
from ..ops.conv import CONV2D, out_size
from ..ops.embedding import EMBEDDING
from ..ops.normalization import NORMALIZE
from ..ops.pool import MAX_POOL2D, flat_index
from ..ops.registry import apply, apply1, apply_residual
from ..ops.shape import cat, reshape
from ..ops.shape import pad as _pad
from ..tensor import Tensor
from .attention import scaled_dot_product_attention  # noqa: F401 - composed in its own module
from .functional_activations import (  # noqa: F401 - the rest of PyTorch's activations, in their own module
    celu,
    elu,
    glu,
    gumbel_softmax,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    prelu,
    relu6,
    selu,
    silu,
    softplus,
    softsign,
    tanhshrink,
    threshold,
)
from .functional_layers import bilinear, dropout1d, dropout2d, embedding_bag  # noqa: F401 - in their own module
from .functional_losses import (  # noqa: F401 - the rest of PyTorch's losses and distances, in their own module
    cosine_embedding_loss,
    cosine_similarity,
    huber_loss,
    kl_div,
    margin_ranking_loss,
    normalize,
    pairwise_distance,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from .functional_norms import group_norm, instance_norm  # noqa: F401 - composed in their own module
from .functional_spatial import (  # noqa: F401 - 1-D, transposed and adaptive layers, resizing, in their own module
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    conv1d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    interpolate,
    max_pool1d,
    pad,
    pixel_shuffle,
    pixel_unshuffle,
    unfold,
    upsample,
)


def _match_dtype(input: Tensor, weight: Tensor | None, op: str) -> Tensor:
    """Integer inputs take the weight's dtype; two different float dtypes are refused, not mixed."""
    if weight is None or input._data.dtype == weight._data.dtype:
        return input
    if input._data.dtype.kind != "f":
        return input.to(weight._data.dtype)
    raise DTypeError(
        f"{op}: input is {input._data.dtype} but the weights are {weight._data.dtype}; convert the input "
        f"(.float() / .double()) or the module (.float() / .double()) so both agree"
    )


def _pair(v, name: str, op: str) -> tuple[int, int]:
    t = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(t) != 2 or not all(isinstance(i, int) and not isinstance(i, bool) for i in t):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
    return t


def _check_4d(x: Tensor, op: str) -> None:
    if x._data.ndim != 4:
        raise ShapeError(f"{op}: expects input of shape (N, C, H, W), got {x._data.shape}")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """Cross-correlation of (N, C, H, W) with weights (O, C/groups, kh, kw), as PyTorch's conv2d."""
    if input._data.ndim == 3:  # one unbatched (C, H, W) image, as PyTorch allows
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups)[0]
    x, w = input._data, weight._data
    _check_4d(input, "conv2d")
    stride, dilation = _pair(stride, "stride", "conv2d"), _pair(dilation, "dilation", "conv2d")
    if w.ndim != 4:
        raise ShapeError(f"conv2d: weight must have shape (out, in, kh, kw), got {w.shape}")
    if isinstance(padding, str):
        padding = _string_padding(padding, w.shape[2:], stride, dilation)
    padding = _pair(padding, "padding", "conv2d")
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ValueError(f"conv2d: stride {stride} and dilation {dilation} must be ≥ 1, padding {padding} ≥ 0")
    if x.shape[1] != w.shape[1] * groups or w.shape[0] % groups:
        raise ShapeError(
            f"conv2d: input of shape {x.shape} has {x.shape[1]} channels, but weight of shape {w.shape} "
            f"with groups={groups} expects {w.shape[1] * groups}"
        )
    if bias is not None and bias._data.shape != (w.shape[0],):
        raise ShapeError(f"conv2d: bias must have shape ({w.shape[0]},), got {bias._data.shape}")
    for k, n, s, p, d, axis in ((w.shape[2], x.shape[2], stride[0], padding[0], dilation[0], "height"),
                                (w.shape[3], x.shape[3], stride[1], padding[1], dilation[1], "width")):
        if out_size(n, k, s, p, d) < 1:
            raise ShapeError(
                f"conv2d: kernel {w.shape[2:]} (dilation {dilation}) is larger than the padded input "
                f"{axis} {n + 2 * p} (input {x.shape}, padding {padding})"
            )
    input = _match_dtype(input, weight, "conv2d")
    kw = {"stride": stride, "padding": padding, "dilation": dilation}
    if groups == 1:
        return apply(CONV2D, (input, weight) if bias is None else (input, weight, bias), kw)
    cin, cout = w.shape[1], w.shape[0] // groups
    outs = []
    for i in range(groups):
        b = None if bias is None else bias[i * cout:(i + 1) * cout]
        xi = input[:, i * cin:(i + 1) * cin]
        wi = weight[i * cout:(i + 1) * cout]
        outs.append(apply(CONV2D, (xi, wi) if b is None else (xi, wi, b), kw))
    return cat(outs, axis=1)


def _string_padding(mode: str, kernel, stride, dilation) -> tuple[int, int]:
    if mode == "valid":
        return (0, 0)
    if mode == "same":
        if stride != (1, 1):
            raise ValueError("conv2d: padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if any(t % 2 for t in total):
            raise ValueError(f"conv2d: padding='same' needs symmetric padding; kernel {tuple(kernel)} "
                             f"with dilation {dilation} would pad unevenly")
        return (total[0] // 2, total[1] // 2)
    raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', not {mode!r}")


def _pool_args(op: str, x: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool):
    _check_4d(x, op)
    k = _pair(kernel_size, "kernel_size", op)
    s = k if stride is None or stride == () or stride == [] else _pair(stride, "stride", op)
    p = _pair(padding, "padding", op)
    d = _pair(dilation, "dilation", op)
    if min(k) < 1 or min(s) < 1 or min(d) < 1:
        raise ValueError(f"{op}: kernel_size {k}, stride {s} and dilation {d} must be positive")
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{op}: padding {p} should be at most half of the kernel size {k}")
    h, w = x._data.shape[2:]
    if out_size(h, k[0], s[0], p[0], d[0]) < 1 or out_size(w, k[1], s[1], p[1], d[1]) < 1:
        raise ShapeError(f"{op}: kernel {k} does not fit input of shape {x._data.shape} with padding {p}")
    extra = (0, 0)
    if ceil_mode:
        extra = (_ceil_extra(h, k[0], s[0], p[0], d[0]), _ceil_extra(w, k[1], s[1], p[1], d[1]))
    return k, s, p, d, extra


def _ceil_extra(n: int, k: int, s: int, p: int, d: int) -> int:
    """Rows (or columns) to append so that the floor formula gives ceil_mode's output size.

    PyTorch rounds the window count up, but drops a last window that would
    start inside the right padding.
    """
    span = d * (k - 1) + 1
    out = -(-(n + 2 * p - span) // s) + 1
    if (out - 1) * s >= n + p:
        out -= 1
    return max(0, (out - 1) * s + span - (n + 2 * p))


def _window_sizes(n: int, k: int, s: int, p: int, count: int, include_pad: bool):
    """How many positions each average-pooling window divides by along one axis (PyTorch's rule)."""
    start = xp.arange(count) * s - p
    end = xp.minimum(start + k, n + p)
    if not include_pad:
        start, end = xp.maximum(start, 0), xp.minimum(end, n)
    return end - start


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """The largest value of each window; its gradient goes to that value's position alone."""
    if input._data.ndim == 3:  # one unbatched (C, H, W) image, as PyTorch allows
        out = max_pool2d(input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode, return_indices)
        return (out[0][0], out[1][0]) if return_indices else out[0]
    k, s, p, d, extra = _pool_args("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    x = input
    if extra != (0, 0):  # ceil_mode: windows may run past the end, over values that never win
        low = -xp.inf if input._data.dtype.kind == "f" else xp.iinfo(input._data.dtype).min
        x = _pad(input, (0, extra[1], 0, extra[0]), value=low)
    out, arg = apply_residual(MAX_POOL2D, (x,), {"kernel": k, "stride": s, "padding": p, "dilation": d})
    if return_indices:  # PyTorch's indices are flat positions within each (H, W) plane
        hp, wp = x._data.shape[2:]
        flat = flat_index(arg, x._data.shape, k, s, p, d)[0] % (hp * wp)
        idx = (flat // wp) * input._data.shape[3] + flat % wp
        return out, Tensor._make(idx.astype(xp.int64), None)
    return out


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each window: a convolution of every channel with a constant kernel."""
    if input._data.ndim == 3:  # one unbatched (C, H, W) image, as PyTorch allows
        return avg_pool2d(input.unsqueeze(0), kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override)[0]
    k, s, p, d, extra = _pool_args("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    n, c, h, w = input._data.shape
    dtype = input._data.dtype if input._data.dtype.kind == "f" else xp.float32
    ones = Tensor._make(xp.ones((1, 1) + k, dtype=dtype), None)
    x = reshape(input.to(dtype), (n * c, 1, h, w))
    if extra != (0, 0):
        x = _pad(x, (0, extra[1], 0, extra[0]))
    summed = apply(CONV2D, (x, ones), {"stride": s, "padding": p, "dilation": d})
    ho, wo = summed._data.shape[2:]
    if divisor_override:
        out = summed / float(divisor_override)
    elif (count_include_pad or p == (0, 0)) and extra == (0, 0):
        out = summed / float(k[0] * k[1])
    else:  # windows cut short by the edge divide by what they cover
        sizes = xp.outer(_window_sizes(h, k[0], s[0], p[0], ho, count_include_pad),
                         _window_sizes(w, k[1], s[1], p[1], wo, count_include_pad))
        out = summed / Tensor._make(sizes.astype(dtype), None)
    return reshape(out, (n, c, ho, wo))


def _normalize(x: Tensor, weight, bias, axes: tuple, pshape: tuple, mean, var, batch: bool, eps: float,
               count: int) -> Tensor:
    invstd = 1.0 / xp.sqrt(var + eps)
    per_channel = len(pshape) == x._data.ndim and all(pshape[a] == 1 for a in axes)  # batch norm's layout
    kw = {"axes": axes, "pshape": pshape, "batch": batch, "eps": eps, "count": count, "per_channel": per_channel}
    return apply(NORMALIZE, (x, weight, bias, mean, invstd.astype(x._data.dtype, copy=False)), kw)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (axis 1) by batch statistics (training) or running ones (eval).

    In training the running statistics are updated in place:
    r ← (1 − momentum)·r + momentum·batch (the unbiased variance for r_var).
    """
    input = _match_dtype(input, weight, "batch_norm")
    x = input._data
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expects input of shape (N, C, ...), got {x.shape}")
    c = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    pshape = (1, c) + (1,) * (x.ndim - 2)
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t._data.shape != (c,):
            raise ShapeError(f"batch_norm: {name} must have shape ({c},) for input {x.shape}, got {t._data.shape}")
    n = x.size // c if c else 0
    if training:
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        if running_mean is not None:
            running_mean._data *= 1.0 - momentum
            running_mean._data += (momentum * mean.reshape(c)).astype(running_mean._data.dtype, copy=False)
        if running_var is not None:
            running_var._data *= 1.0 - momentum
            running_var._data += (momentum * n / (n - 1) * var.reshape(c)).astype(running_var._data.dtype, copy=False)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
        mean = running_mean._data.reshape(pshape).astype(x.dtype, copy=False)
        var = running_var._data.reshape(pshape).astype(x.dtype, copy=False)
    return _normalize(input, weight, bias, axes, pshape, mean, var, training, eps, n)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` axes of every sample."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    input = _match_dtype(input, weight, "layer_norm")
    x = input._data
    k = len(ns)
    if k == 0 or x.shape[x.ndim - k:] != ns or x.ndim < k:
        raise ShapeError(f"layer_norm: input of shape {x.shape} does not end in normalized_shape {ns}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._data.shape != ns:
            raise ShapeError(f"layer_norm: {name} must have shape {ns}, got {t._data.shape}")
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return _normalize(input, weight, bias, axes, ns, mean, var, True, eps, math.prod(ns))


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` picked by the integer ``input`` (any shape)."""
    idx = input._data if isinstance(input, Tensor) else xp.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {idx.dtype}")
    v = weight._data.shape[0]
    check_indices(idx, v, "embedding", f"indices into {v} embeddings:")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += v
    return apply1(EMBEDDING, weight, {"index": idx, "padding_idx": padding_idx, "shape": weight._data.shape})


def _guard() -> None:
    """The public functions name themselves in any error escaping from NumPy or Python internals (boundary.py)."""
    from ..boundary import guard_namespace

    internal = {"apply", "apply1", "apply_residual", "check_indices", "flat_index", "out_size"}
    guard_namespace(globals(), [n for n in list(globals()) if not n.startswith("_") and n not in internal])


_guard()
