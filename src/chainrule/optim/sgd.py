"""SGD with momentum, dampening, Nesterov momentum and weight decay (PyTorch's rule)."""
from __future__ import annotations

from typing import Iterable

from .. import arguments as arg
from ..backend import xp
from ..tensor import Tensor
from . import blas
from .blas import axpby, axpy
from .optimizer import Optimizer, required


class SGD(Optimizer):
    """g ← ∇ + λθ;  b ← μb + (1 − τ)g (b = g at first);  g ← g + μb (Nesterov) or b;  θ ← θ − ηg."""

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False) -> None:
        if lr is not required:
            arg.number("SGD", "learning rate", lr, 0.0)
        for name, v in (("momentum", momentum), ("dampening", dampening), ("weight_decay", weight_decay)):
            arg.number("SGD", name, v, 0.0)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _state_names(self, group: dict) -> tuple[set, set]:
        return set(), {"momentum_buffer"}  # a missing buffer starts from the next gradient, as in PyTorch

    def _update(self, group: dict, params: list) -> None:
        lr, mu = float(group["lr"]), float(group["momentum"])
        wd, damp = float(group["weight_decay"]), float(group["dampening"])
        nesterov, maximize = group["nesterov"], group["maximize"]
        if mu and not (wd or damp or nesterov or maximize):
            fg = self._packed(group, params)
            if fg is not None:
                self._momentum_flat(fg, params, lr, mu)
                return
        for p in params:
            theta = p._data
            g = p.grad._data
            if maximize:
                g = -g
            if wd:
                g = g + wd * theta
            if mu:
                st = self.state.setdefault(p, {})
                buf = st.get("momentum_buffer")
                if buf is None:
                    st["momentum_buffer"] = buf = Tensor._make(xp.array(g, dtype=theta.dtype), None)
                else:
                    axpby(1.0 - damp, g, mu, buf._data)  # b ← μb + (1 − τ)g
                if nesterov:
                    g = g + mu * buf._data
                else:
                    g = buf._data
            if lr == 1.0:
                theta -= g
            else:
                axpy(-lr, g, theta, self._scratch(p))

    def _momentum_flat(self, fs, params: list, lr: float, mu: float) -> None:
        """The plain momentum step with the group's buffers laid end to end: b ← μb + g;  θ ← θ − ηb.

        A new buffer starts at zero, so its first step gives b = g as PyTorch's copy does.
        """
        flat, views = fs.buffer(self.state, "momentum_buffer")
        if flat.size < blas.MIN_SIZE:  # a small network: the fewest NumPy calls
            flat *= mu
            for b, p in zip(views, params):
                b += p.grad._data
            xp.multiply(flat, -lr, out=fs.scratch)
            for step, p in zip(fs.scratch_views, params):
                p._data += step
        else:  # one BLAS pass for each large parameter
            for b, p in zip(views, params):
                axpby(1.0, p.grad._data, mu, b)
                axpy(-lr, b, p._data)
