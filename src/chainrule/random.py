"""The global random generator behind randn/rand, init and dropout; ``manual_seed`` resets it."""
from __future__ import annotations

import numpy as np

_rng = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Make everything random in chainrule repeatable from here on."""
    global _rng
    from .arguments import seed as checked_seed

    _rng = np.random.default_rng(checked_seed("manual_seed", seed))  # negative seeds wrap, as in PyTorch
    return _rng


def generator() -> np.random.Generator:
    return _rng
