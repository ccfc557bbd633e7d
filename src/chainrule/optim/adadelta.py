"""Adadelta (Zeiler, 2012): steps sized by the ratio of running RMS of updates and of gradients."""
from __future__ import annotations

from typing import Iterable

from ..backend import xp
from ..tensor import Tensor
from .optimizer import Optimizer


class Adadelta(Optimizer):
    """v ← ρv + (1 − ρ)g²;  Δ = √(u + ε)/√(v + ε) · g;  u ← ρu + (1 − ρ)Δ²;  θ ← θ − ηΔ (PyTorch's order)."""

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Adadelta: invalid learning rate {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: invalid rho value {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Adadelta: invalid epsilon value {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Adadelta: invalid weight_decay value {weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _update(self, group: dict, params: list) -> None:
        lr, rho, eps, wd = (float(group[k]) for k in ("lr", "rho", "eps", "weight_decay"))
        for p in params:
            theta, g = p.numpy(), p.grad.numpy()
            if group["maximize"]:
                g = -g
            st = self.state.get(p)
            if st is None:
                st = self.state[p] = {"step": Tensor._make(xp.zeros((), dtype=xp.float32), None),
                                      "square_avg": Tensor._make(xp.zeros_like(theta), None),
                                      "acc_delta": Tensor._make(xp.zeros_like(theta), None)}
            step = st["step"].numpy()
            step += 1
            if wd:
                g = g + wd * theta
            v, u = st["square_avg"].numpy(), st["acc_delta"].numpy()
            v *= rho
            v += (1 - rho) * (g * g)
            delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
            u *= rho
            u += (1 - rho) * (delta * delta)
            theta -= lr * delta
