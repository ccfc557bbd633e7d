"""RMSprop (Hinton's lecture 6e), with PyTorch's centred and momentum variants."""
from __future__ import annotations

from typing import Iterable

from .. import arguments as arg
from ..backend import xp
from ..tensor import Tensor
from .blas import axpy
from .optimizer import Optimizer, lerp_, square_average_


class RMSprop(Optimizer):
    """v ← αv + (1 − α)g²;  d = √(v − ḡ²) (centred) or √v, plus ε;  θ ← θ − ηg/d (or via momentum b ← μb + g/d)."""

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        for name, v in (("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                        ("weight_decay value", weight_decay), ("alpha value", alpha)):
            arg.number("RMSprop", name, v, 0.0)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, maximize=maximize))

    def _state_names(self, group: dict) -> tuple[set, set]:
        needed = {"step", "square_avg"} | ({"momentum_buffer"} if group["momentum"] > 0 else set())
        return needed | ({"grad_avg"} if group["centered"] else set()), {"momentum_buffer", "grad_avg"}

    def _update(self, group: dict, params: list) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        wd, mu, centered = float(group["weight_decay"]), float(group["momentum"]), group["centered"]
        for p in params:
            theta = p._data
            g = p.grad._data
            if group["maximize"]:
                g = -g
            st = self.state.get(p)
            if st is None:
                st = self.state[p] = {"step": Tensor._make(xp.zeros((), dtype=xp.float32), None),
                                      "square_avg": Tensor._make(xp.zeros_like(theta), None)}
                if mu > 0:
                    st["momentum_buffer"] = Tensor._make(xp.zeros_like(theta), None)
                if centered:
                    st["grad_avg"] = Tensor._make(xp.zeros_like(theta), None)
            st["step"]._data += 1
            if wd:
                g = g + wd * theta
            v = st["square_avg"]._data
            tmp = self._scratch(p)
            square_average_(v, g, alpha, tmp)
            if centered:
                ga = st["grad_avg"]._data
                lerp_(ga, g, 1.0 - alpha)
                xp.multiply(ga, ga, out=tmp)
                xp.subtract(v, tmp, out=tmp)
                xp.sqrt(tmp, out=tmp)
            else:
                xp.sqrt(v, out=tmp)
            tmp += eps
            if mu > 0:
                buf = st["momentum_buffer"]._data
                buf *= mu
                xp.divide(g, tmp, out=tmp)
                buf += tmp
                axpy(-lr, buf, theta, tmp)
            else:
                xp.divide(g, tmp, out=tmp)
                axpy(-lr, tmp, theta)
