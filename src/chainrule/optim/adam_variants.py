"""Adamax, NAdam and RAdam: Adam's moments with PyTorch's update rules (its single-tensor path), state names
and state-dict layout.  Per-parameter loops on arrays, as PyTorch orders the operations."""
from __future__ import annotations

import math
from typing import Iterable

from .. import arguments as arg
from ..backend import xp
from ..tensor import Tensor
from .optimizer import Optimizer, OptimizerStateError, lerp_


def _check(name: str, lr, betas, eps, weight_decay) -> tuple:
    arg.number(name, "learning rate", lr, 0.0)
    arg.number(name, "epsilon (eps)", eps, 0.0)
    arg.number(name, "weight_decay", weight_decay, 0.0)
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise arg.ArgumentError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        if arg.number(name, f"beta parameter at index {i}", b) < 0.0 or b >= 1.0:
            raise arg.ArgumentError(f"{name}: invalid beta parameter at index {i}: {b} (must be in [0, 1))")
    return tuple(betas)


def _scalar(value: float = 0.0) -> Tensor:
    return Tensor._make(xp.full((), value, dtype=xp.float32), None)


class _AdamLike(Optimizer):
    _moments: tuple = ("exp_avg", "exp_avg_sq")
    _scalars: dict = {"step": 0.0}

    def _load_param_state(self, st, p, group: dict, index) -> dict:
        """Scalar state beyond the step counter (NAdam's mu_product) is one finite number, kept as float32."""
        extra = {}
        if isinstance(st, dict):
            st = dict(st)
            for name in set(self._scalars) - {"step"}:
                if name in st:
                    v = st.pop(name)
                    arr = xp.asarray(v._data if isinstance(v, Tensor) else
                                     v.detach().cpu().numpy() if hasattr(v, "detach") else v)
                    if arr.size != 1 or arr.dtype.kind not in "iuf" or not xp.isfinite(arr).all():
                        raise OptimizerStateError(f"state of parameter {index}: {name!r} must be one finite "
                                                  f"number, got {arr!r:.40}")
                    extra[name] = _scalar(float(arr.reshape(())))
        missing = (set(self._scalars) - {"step"}) - set(extra)
        if missing:
            raise OptimizerStateError(f"state of parameter {index} lacks {sorted(missing)}; "
                                      f"{type(self).__name__} needs {sorted(self._state_names(group)[0])}")
        return {**super()._load_param_state(st, p, group, index), **extra}

    def _state_names(self, group: dict) -> tuple[set, set]:
        return set(self._moments) | {"step"}, set()

    def _state(self, p) -> dict:
        st = self.state.get(p)
        if st is None:
            st = self.state[p] = {k: _scalar(v) for k, v in self._scalars.items()}
            st.update({k: Tensor._make(xp.zeros_like(p._data), None) for k in self._moments})
        return st

    def _grad(self, group: dict, p):
        g = p.grad._data
        return -g if group["maximize"] else g

    def _update(self, group: dict, params: list) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        for p in params:
            st = self._state(p)
            st["step"]._data += 1
            self._step(group, p, p._data, self._grad(group, p), st, float(st["step"]._data), lr, beta1, beta2, eps,
                       wd)

    def _step(self, group, p, theta, g, st, step, lr, beta1, beta2, eps, wd) -> None:
        raise NotImplementedError


def _decay(theta, g, lr: float, wd: float, decoupled: bool):
    """Weight decay: θ ← θ(1 − η·λ) (decoupled, AdamW's) or g ← g + λθ; returns the gradient to use."""
    if not wd:
        return g
    if decoupled:
        theta *= 1.0 - lr * wd
        return g
    return g + wd * theta


class Adamax(_AdamLike):
    """Adam with the infinity norm: u ← max(β₂u, |g| + ε);  θ ← θ − η/(1 − β₁ᵗ) · m/u."""

    _moments = ("exp_avg", "exp_inf")

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach=None, *, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        betas = _check("Adamax", lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _step(self, group, p, theta, g, st, step, lr, beta1, beta2, eps, wd) -> None:
        g = _decay(theta, g, lr, wd, False)
        m, u = st["exp_avg"]._data, st["exp_inf"]._data
        lerp_(m, g, 1.0 - beta1)
        u *= beta2
        xp.maximum(u, xp.abs(g) + eps, out=u)
        theta -= (lr / (1.0 - beta1 ** step)) * (m / u)


class NAdam(_AdamLike):
    """Adam with Nesterov momentum and PyTorch's momentum schedule μₜ = β₁(1 − ½·0.96^(t·momentum_decay))."""

    _scalars = {"step": 0.0, "mu_product": 1.0}

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        betas = _check("NAdam", lr, betas, eps, weight_decay)
        arg.number("NAdam", "momentum_decay", momentum_decay, 0.0)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _step(self, group, p, theta, g, st, step, lr, beta1, beta2, eps, wd) -> None:
        g = _decay(theta, g, lr, wd, group["decoupled_weight_decay"])
        decay = float(group["momentum_decay"])
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
        prod = st["mu_product"]._data
        prod *= xp.float32(mu) if prod.dtype == xp.float32 else mu  # a float32 tensor in PyTorch, rounded so
        mu_product = float(prod)
        m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
        lerp_(m, g, 1.0 - beta1)
        v *= beta2
        v += (1.0 - beta2) * (g * g)
        denom = xp.sqrt(v / (1.0 - beta2 ** step))
        denom += eps
        theta += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
        theta += ((-lr * mu_next) / (1.0 - mu_product * mu_next)) * (m / denom)


class RAdam(_AdamLike):
    """Adam with the variance rectification of Liu et al. (2020): plain momentum SGD while the
    approximated SMA length ρₜ ≤ 5, rectified Adam after."""

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:
        betas = _check("RAdam", lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def _step(self, group, p, theta, g, st, step, lr, beta1, beta2, eps, wd) -> None:
        g = _decay(theta, g, lr, wd, group["decoupled_weight_decay"])
        m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
        lerp_(m, g, 1.0 - beta1)
        v *= beta2
        v += (1.0 - beta2) * (g * g)
        bc1, bc2 = 1.0 - beta1 ** step, 1.0 - beta2 ** step
        corrected = m / bc1
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * step * (beta2 ** step) / bc2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = (bc2 ** 0.5) / (xp.sqrt(v) + eps)
            theta -= corrected * lr * adaptive * rect
        else:
            theta -= corrected * lr
