"""Adam (Kingma and Ba, 2015) with optional AMSGrad; ``decoupled`` switches to AdamW's weight decay."""
from __future__ import annotations

import math
from typing import Iterable

from .. import arguments as arg
from ..backend import xp
from ..tensor import Tensor
from .blas import axpby, axpy
from .optimizer import Optimizer, lerp_, square_average_


class Adam(Optimizer):
    """m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  θ ← θ − η/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε)."""

    decoupled = False

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False) -> None:
        name = type(self).__name__
        arg.number(name, "learning rate", lr, 0.0)
        arg.number(name, "epsilon (eps)", eps, 0.0)
        arg.number(name, "weight_decay", weight_decay, 0.0)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise arg.ArgumentError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, b in enumerate(betas):
            if arg.number(name, f"beta parameter at index {i}", b) < 0.0 or b >= 1.0:
                raise arg.ArgumentError(f"{name}: invalid beta parameter at index {i}: {b} (must be in [0, 1))")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=self.decoupled))

    def _state_names(self, group: dict) -> tuple[set, set]:
        moments = {"step", "exp_avg", "exp_avg_sq"}
        return (moments | {"max_exp_avg_sq"}, set()) if group["amsgrad"] else (moments, {"max_exp_avg_sq"})

    def _update(self, group: dict, params: list) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        amsgrad, maximize, decoupled = group["amsgrad"], group["maximize"], group["decoupled_weight_decay"]
        if not (amsgrad or maximize or (wd and not decoupled)):
            fg = self._packed(group, params)
            if fg is not None and self._adam_flat(fg, params, lr, beta1, beta2, eps, wd):
                return
        for p in params:
            theta = p._data
            g = p.grad._data
            if maximize:
                g = -g
            st = self.state.get(p)
            if st is None:
                st = self.state[p] = {
                    "step": Tensor._make(xp.zeros((), dtype=xp.float32), None),
                    "exp_avg": Tensor._make(xp.zeros_like(theta), None),
                    "exp_avg_sq": Tensor._make(xp.zeros_like(theta), None),
                }
                if amsgrad:
                    st["max_exp_avg_sq"] = Tensor._make(xp.zeros_like(theta), None)
            st["step"]._data += 1
            step = float(st["step"]._data)
            if wd:
                if decoupled:
                    theta *= 1.0 - lr * wd
                else:
                    g = g + wd * theta
            m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
            tmp = self._scratch(p)
            lerp_(m, g, 1.0 - beta1)
            square_average_(v, g, beta2, tmp)
            if amsgrad:
                vmax = st["max_exp_avg_sq"]._data
                xp.maximum(vmax, v, out=vmax)
                v = vmax
            _adam_step_(theta, m, v, tmp, lr, beta1, beta2, eps, step)

    def _adam_flat(self, fs, params: list, lr: float, beta1: float, beta2: float, eps: float, wd: float) -> bool:
        """The same arithmetic as the per-parameter loop, over the packed group.

        Returns False (nothing done) when the parameters' step counts differ, as
        after loading a state dict saved from a differently stepped optimizer.
        """
        counts = []
        for p in params:
            c = self.state.get(p, {}).get("step")  # (get: a defaultdict would make an empty entry)
            counts.append(0.0 if c is None else float(c._data))
        if min(counts) != max(counts):
            return False
        m, m_views = fs.buffer(self.state, "exp_avg")
        v, _ = fs.buffer(self.state, "exp_avg_sq")
        step = counts[0] + 1
        for p in params:
            st = self.state[p]
            if "step" not in st:
                st["step"] = Tensor._make(xp.zeros((), dtype=xp.float32), None)
            st["step"]._data += 1
        tmp, tmp_views = fs.scratch, fs.scratch_views
        for t, mi, p in zip(tmp_views, m_views, params):
            if wd:  # decoupled (AdamW); coupled decay takes the per-parameter path
                p._data *= 1.0 - lr * wd
            g = p.grad._data
            lerp_(mi, g, 1.0 - beta1)
            xp.multiply(g, g, out=t)
        axpby(1.0 - beta2, tmp, beta2, v)  # v ← β₂v + (1 − β₂)g², as square_average_
        _adam_direction_(m, v, tmp, beta2, eps, step)
        for t, p in zip(tmp_views, params):
            axpy(-lr / (1.0 - beta1 ** step), t, p._data)
        return True


def _adam_step_(theta, m, v, tmp, lr: float, beta1: float, beta2: float, eps: float, step: float) -> None:
    """θ ← θ − η/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε), in PyTorch's order of operations; ``tmp`` is scratch."""
    _adam_direction_(m, v, tmp, beta2, eps, step)
    axpy(-lr / (1.0 - beta1 ** step), tmp, theta)


def _adam_direction_(m, v, tmp, beta2: float, eps: float, step: float) -> None:
    """tmp ← m / (√v/√(1 − β₂ᵗ) + ε)."""
    xp.sqrt(v, out=tmp)
    tmp /= math.sqrt(1.0 - beta2 ** step)
    tmp += eps
    xp.divide(m, tmp, out=tmp)
