"""Counting and sampling (no gradient): histograms and draws from categorical distributions."""
from __future__ import annotations

from ..backend import xp
from ..errors import ShapeError
from . import registry
from .registry import as_tensor, public


@public
def histc(x, bins: int = 100, min: float = 0, max: float = 0):
    """Counts in ``bins`` equal bins over [min, max] (the data's range when both are 0), as PyTorch."""
    d = as_tensor(x)._data
    lo, hi = (float(d.min()), float(d.max())) if min == 0 and max == 0 and d.size else (float(min), float(max))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    inside = d[(d >= lo) & (d <= hi)]
    counts, _ = xp.histogram(inside, bins=int(bins), range=(lo, hi))
    return registry._Tensor._make(counts.astype(d.dtype if d.dtype.kind == "f" else xp.float32), None)


@public
def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None):
    """Indices drawn from each row's (unnormalised) weights; without replacement each index at most once."""
    from .. import random

    w = as_tensor(input)._data.astype(xp.float64)
    if w.ndim not in (1, 2):
        raise ShapeError(f"multinomial: expects a 1-D or 2-D tensor of weights, got shape {w.shape}")
    rows = w.reshape(1, -1) if w.ndim == 1 else w
    if (rows < 0).any() or not xp.isfinite(rows).all():
        raise ValueError("multinomial: weights must be finite and non-negative")
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError("multinomial: every row needs a positive total weight")
    if not replacement and num_samples > int((rows > 0).sum(axis=1).min()):
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement from fewer "
                         "categories with positive weight")
    gen = random.generator(generator)
    out = xp.stack([gen.choice(rows.shape[1], size=num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    out = out.astype(xp.int64)
    return registry._Tensor._make(out[0] if w.ndim == 1 else out, None)
