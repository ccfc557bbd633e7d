"""Adagrad (Duchi et al., 2011) with PyTorch's lr decay, weight decay and initial accumulator."""
from __future__ import annotations

from typing import Iterable

from ..backend import xp
from ..tensor import Tensor
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """s ← s + g²;  θ ← θ − η/(1 + (t − 1)·decay) · g/(√s + ε).  State exists from construction, as in PyTorch."""

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None) -> None:
        for name, v in (("learning rate", lr), ("lr_decay value", lr_decay), ("weight_decay value", weight_decay),
                        ("initial_accumulator_value", initial_accumulator_value), ("epsilon value", eps)):
            if not 0.0 <= v:
                raise ValueError(f"Adagrad: invalid {name} {v}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))
        for group in self.param_groups:
            for p in group["params"]:
                arr = p.numpy()
                self.state[p] = {"step": Tensor._make(xp.zeros((), dtype=xp.float32), None),
                                 "sum": Tensor._make(xp.full_like(arr, group["initial_accumulator_value"]), None)}

    def _update(self, group: dict, params: list) -> None:
        lr, decay, eps, wd = (float(group[k]) for k in ("lr", "lr_decay", "eps", "weight_decay"))
        for p in params:
            theta, g = p.numpy(), p.grad.numpy()
            if group["maximize"]:
                g = -g
            st = self.state[p]
            step = st["step"].numpy()
            step += 1
            if wd:
                g = g + wd * theta
            clr = lr / (1 + (float(step) - 1) * decay)
            s = st["sum"].numpy()
            s += g * g
            theta -= clr * (g / (xp.sqrt(s) + eps))
