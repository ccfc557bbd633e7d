"""SyncBatchNorm: batch statistics over the whole global batch, not each rank's shard.

In training, every rank sums x and x² per channel and one all-reduce gives
the global mean and variance; backward all-reduces Σ ∂l/∂x̂ and Σ ∂l/∂x̂·x̂
per channel, so each rank's input gradient is that of the loss summed over
all ranks (as PyTorch's SyncBatchNorm computes it).  With one rank, in eval
mode, or before ``init()``, it is an ordinary BatchNorm.
"""
from __future__ import annotations

import numpy as np

from ..function import Function
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from ..tensor import Tensor
from . import comm


class _GlobalBatchNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps, stats_out):
        a = x._data
        axes = (0,) + tuple(range(2, a.ndim))
        shape = (1, -1) + (1,) * (a.ndim - 2)
        local = np.concatenate([a.sum(axes, dtype=np.float64), np.square(a, dtype=np.float64).sum(axes),
                                [a.size / a.shape[1]]])
        total = comm.all_reduce_(local)
        c = a.shape[1]
        n = total[-1]
        mean = total[:c] / n
        var = np.maximum(total[c:2 * c] / n - mean * mean, 0.0)
        invstd = (1.0 / np.sqrt(var + eps)).astype(a.dtype)
        xhat = (a - mean.astype(a.dtype).reshape(shape)) * invstd.reshape(shape)
        stats_out.update(mean=mean, var=var, count=n)
        w = weight._data.reshape(shape) if weight is not None else 1.0
        y = xhat * w + (bias._data.reshape(shape) if bias is not None else 0.0)
        ctx.save_for_backward(xhat, invstd, w, n, axes, shape)
        return Tensor._make(y.astype(a.dtype, copy=False), None)

    @staticmethod
    def backward(ctx, g):
        xhat, invstd, w, n, axes, shape = ctx.saved_tensors
        dy = g._data
        dw = (dy * xhat).sum(axes)
        db = dy.sum(axes)
        wv = w.ravel() if isinstance(w, np.ndarray) else w
        dxhat_sums = comm.all_reduce_(np.concatenate([db * wv, dw * wv]).astype(np.float64))  # Σ∂x̂, Σ∂x̂·x̂
        c = db.size
        mean_dxhat = (dxhat_sums[:c] / n).astype(dy.dtype).reshape(shape)
        mean_dxhat_xhat = (dxhat_sums[c:] / n).astype(dy.dtype).reshape(shape)
        dx = invstd.reshape(shape) * (dy * w - mean_dxhat - xhat * mean_dxhat_xhat)
        need = ctx.needs_input_grad
        return (Tensor._make(dx, None), Tensor._make(dw, None) if need[1] else None,
                Tensor._make(db, None) if need[2] else None, None, None)


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over (N, C, ...) whose training statistics cover every rank's batch."""

    _dims = (2, 3, 4, 5)

    def forward(self, x: Tensor) -> Tensor:
        if not (self.training and comm.is_initialized() and comm.world_size() > 1):
            return super().forward(x)
        if x._data.ndim not in self._dims:
            raise ValueError(f"SyncBatchNorm: expected an input of 2 to 5 dimensions, got shape {x._data.shape}")
        stats: dict = {}
        y = _GlobalBatchNorm.apply(x, self.weight, self.bias, self.eps, stats)
        if self.track_running_stats:
            self.num_batches_tracked._data += 1
            m = 1.0 / float(self.num_batches_tracked._data) if self.momentum is None else self.momentum
            n = stats["count"]
            self.running_mean._data *= 1.0 - m
            self.running_mean._data += (m * stats["mean"]).astype(self.running_mean._data.dtype)
            self.running_var._data *= 1.0 - m
            self.running_var._data += (m * stats["var"] * n / max(n - 1, 1)).astype(self.running_var._data.dtype)
        return y

    @classmethod
    def convert_sync_batchnorm(cls, module: Module) -> Module:
        """``module`` with every BatchNorm1d/2d replaced by a SyncBatchNorm holding the same state."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            sync = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                       bias=module.bias is not None or not module.affine)
            sync.load_state_dict(module.state_dict())
            sync.train(module.training)
            return sync
        for name, child in list(module.named_children()):
            setattr(module, name, cls.convert_sync_batchnorm(child))
        return module
