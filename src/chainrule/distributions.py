"""``cr.distributions``: Normal, Categorical and Bernoulli as PyTorch's, differentiable through their parameters.

``log_prob`` and ``entropy`` are built from chainrule ops, so they train
(policy gradients, VAEs); ``Normal.rsample`` is the reparameterised sample,
``sample`` is cut from the graph as in PyTorch. Draws use the global stream.
"""
from __future__ import annotations

import math
from typing import Any

from . import ops, random
from .backend import xp
from .creation import as_tensor
from .errors import ShapeError
from .tensor import Tensor


def _shape(sample_shape: Any) -> tuple:
    return tuple(sample_shape) if not isinstance(sample_shape, int) else (sample_shape,)


def _param(value: Any) -> Tensor:
    t = as_tensor(value) if isinstance(value, Tensor) else as_tensor(xp.asarray(value, xp.float32))
    return t if t.dtype.is_floating_point else t.float()


class Distribution:
    """What every distribution here answers: ``sample``, ``log_prob``, ``entropy``, ``mean``, shapes."""

    def sample(self, sample_shape: Any = ()) -> Tensor:
        raise NotImplementedError

    def log_prob(self, value: Any) -> Tensor:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        raise NotImplementedError

    @property
    def batch_shape(self):
        return self._batch_shape


class Normal(Distribution):
    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = _param(loc), _param(scale)
        if (self.scale.numpy() <= 0).any():
            raise ValueError("Normal: scale must be positive")
        self._batch_shape = xp.broadcast_shapes(tuple(self.loc.shape), tuple(self.scale.shape))

    mean = property(lambda self: self.loc.expand(*self._batch_shape))
    stddev = property(lambda self: self.scale.expand(*self._batch_shape))
    variance = property(lambda self: (self.scale ** 2).expand(*self._batch_shape))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = _shape(sample_shape) + tuple(self._batch_shape)
        eps = random.generator().standard_normal(shape).astype(self.loc.numpy().dtype)
        return self.loc + self.scale * Tensor._make(eps, None)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.rsample(sample_shape).detach()

    def log_prob(self, value: Any) -> Tensor:
        value = _param(value)
        return -((value - self.loc) ** 2) / (2 * self.scale ** 2) - ops.log(self.scale) - 0.5 * math.log(2 * math.pi)

    def entropy(self) -> Tensor:
        return (0.5 + 0.5 * math.log(2 * math.pi) + ops.log(self.scale)).expand(*self._batch_shape)


class Categorical(Distribution):
    """Classes 0..K-1 over the last dimension, from ``probs`` (normalised here) or ``logits``."""

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: give exactly one of probs= or logits=")
        if probs is not None:
            probs = _param(probs)
            if probs.ndim == 0 or (probs.numpy() < 0).any():
                raise ValueError("Categorical: probs must be non-negative, with the classes on the last dimension")
            self.logits = ops.log(probs) - ops.log(probs.sum(-1, keepdim=True))
        else:
            logits = _param(logits)
            if logits.ndim == 0:
                raise ShapeError("Categorical: logits need the classes on a last dimension")
            self.logits = logits - ops.logsumexp(logits, -1, keepdim=True)
        self._batch_shape = tuple(self.logits.shape[:-1])

    @property
    def probs(self) -> Tensor:
        return ops.exp(self.logits)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        p = xp.exp(self.logits.numpy().astype(xp.float64)).reshape(-1, self.logits.shape[-1])
        n = math.prod(_shape(sample_shape))
        rng = random.generator()
        draws = xp.stack([rng.choice(p.shape[1], size=n, p=row / row.sum()) for row in p], axis=-1)
        return Tensor._make(draws.reshape(_shape(sample_shape) + self._batch_shape).astype(xp.int64), None)

    def log_prob(self, value: Any) -> Tensor:
        value = as_tensor(value).long()
        logits = self.logits.expand(*(tuple(value.shape) + (self.logits.shape[-1],))) if value.ndim else self.logits
        return logits.gather(-1, value.unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> Tensor:
        return -(self.probs * self.logits).sum(-1)


class Bernoulli(Distribution):
    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: give exactly one of probs= or logits=")
        if probs is not None:
            self.probs = _param(probs)
            if ((self.probs.numpy() < 0) | (self.probs.numpy() > 1)).any():
                raise ValueError("Bernoulli: probs must lie in [0, 1]")
            self.logits = ops.log(self.probs) - ops.log1p(-self.probs)
        else:
            self.logits = _param(logits)
            self.probs = ops.sigmoid(self.logits)
        self._batch_shape = tuple(self.probs.shape)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = _shape(sample_shape) + self._batch_shape
        u = random.generator().random(shape)
        return Tensor._make((u < self.probs.numpy()).astype(self.probs.numpy().dtype), None)

    def log_prob(self, value: Any) -> Tensor:
        from .nn.functional import binary_cross_entropy_with_logits

        value = _param(value)
        logits = self.logits.expand(*xp.broadcast_shapes(tuple(value.shape), self._batch_shape))
        return -binary_cross_entropy_with_logits(logits, value.expand(*logits.shape), reduction="none")

    def entropy(self) -> Tensor:
        from .nn.functional import binary_cross_entropy_with_logits

        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) in closed form; only Normal against Normal here (a VAE's loss)."""
    if isinstance(p, Normal) and isinstance(q, Normal):
        var_ratio = (p.scale / q.scale) ** 2
        return 0.5 * (var_ratio + ((p.loc - q.loc) / q.scale) ** 2 - 1 - ops.log(var_ratio))
    raise NotImplementedError(f"kl_divergence: no closed form here for {type(p).__name__} and {type(q).__name__}")


__all__ = ["Bernoulli", "Categorical", "Distribution", "Normal", "kl_divergence"]
