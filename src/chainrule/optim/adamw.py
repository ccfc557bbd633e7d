"""AdamW (Loshchilov and Hutter, 2019): Adam with weight decay decoupled from the gradient."""
from __future__ import annotations

from typing import Iterable

from .adam import Adam


class AdamW(Adam):
    """Adam whose weight decay shrinks θ directly (θ ← θ(1 − ηλ)) instead of adding λθ to the gradient."""

    decoupled = True

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
