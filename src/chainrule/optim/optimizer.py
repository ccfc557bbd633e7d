"""Optimizer: parameter groups, per-parameter state, and PyTorch's state-dict layout.

Subclasses write ``_update(group, params)``: it runs under no_grad and changes
each parameter's array in place, in the parameter's dtype.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, Callable, Iterable

from .. import layout
from ..autograd import enable_grad, no_grad
from ..backend import xp
from ..errors import ChainruleError
from ..tensor import Tensor
from .blas import axpby
from .flat import FlatState


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class OptimizerStateError(ChainruleError, ValueError):
    """A state dict that does not fit this optimizer's parameter groups."""


class Optimizer:
    def __init__(self, params: Iterable, defaults: dict) -> None:
        self.defaults = defaults
        self.state: dict = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group: dict) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param group must be a dict, not {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {k}")
            group.setdefault(k, v)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]) or len({id(p) for p in group["params"]}) != len(
                group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ------------------------------------------------------------ the step
    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p._grad = None  # (the checked setter has nothing to check for None)
                elif p.grad is not None:
                    p.grad = Tensor._make(xp.zeros_like(p.grad.data), None)

    def step(self, closure: Callable | None = None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    self._update(group, params)
        return loss

    def _update(self, group: dict, params: list) -> None:
        raise NotImplementedError

    def _packed(self, group: dict, params: list) -> FlatState | None:
        """The group's state laid end to end (see flat.py) when every parameter of the group takes part."""
        if len(params) != len(group["params"]):
            return None
        flats = self.__dict__.setdefault("_flat", {})
        fs = flats.get(id(group))
        if fs is None or not fs.fits(params):
            fs = flats[id(group)] = FlatState.make(params)
        return fs

    def _scratch(self, p: Tensor):
        """A reusable temporary of p's shape and dtype (kept out of the state dict)."""
        buf = self.__dict__.setdefault("_buffers", {}).get(id(p))
        if buf is None or buf.shape != p.data.shape or buf.dtype != p.data.dtype:
            buf = xp.empty_like(p.data)
            self._buffers[id(p)] = buf
        return buf

    # ------------------------------------------------------------ state dict
    def state_dict(self) -> dict:
        """{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}, as PyTorch."""
        index: dict = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self.state:
                    state[index[id(p)]] = dict(self.state[p])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise OptimizerStateError(f"an optimizer state dict has the keys 'state' and 'param_groups', got {got}")
        state_dict = copy.deepcopy(state_dict)
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise OptimizerStateError(
                f"loaded state dict has {len(groups)} parameter groups, this optimizer has {len(self.param_groups)}"
            )
        for i, (old, new) in enumerate(zip(self.param_groups, groups)):
            if len(old["params"]) != len(new["params"]):
                raise OptimizerStateError(
                    f"loaded state dict's group {i} has {len(new['params'])} parameters, "
                    f"this optimizer's has {len(old['params'])}"
                )
        by_index = {}
        for old, new in zip(self.param_groups, groups):
            for i, p in zip(new["params"], old["params"]):
                by_index[int(i)] = p
        self.state = defaultdict(dict)
        for k, st in state_dict["state"].items():
            p = by_index.get(int(k))
            if p is None:
                raise OptimizerStateError(f"loaded state dict has state for parameter {k}, which no group holds")
            self.state[p] = {name: _cast_state(name, v, p) for name, v in st.items()}
        for old, new in zip(self.param_groups, groups):
            params = old["params"]
            old.clear()
            old.update(self.defaults)  # options a different version did not save keep their defaults
            old.update({k: v for k, v in new.items() if k != "params"})
            old["params"] = params

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _cast_state(name: str, v: Any, p: Tensor):
    """Buffers follow the parameter's dtype, shape and memory order; the step counter stays a scalar tensor."""
    arr = v.data if isinstance(v, Tensor) else (xp.asarray(v.detach().cpu().numpy()) if hasattr(v, "detach")
                                                else v)
    if name == "step":
        return Tensor._make(xp.asarray(arr, dtype=xp.float32).reshape(()), None)
    if isinstance(arr, xp.ndarray):
        if arr.shape != p.data.shape:
            raise OptimizerStateError(
                f"state {name!r} has shape {arr.shape} but its parameter has shape {p.data.shape}"
            )
        buf = layout.empty_like(p.data)  # the parameter's memory order too, so updates pair them up directly
        buf[...] = arr
        return Tensor._make(buf, None)
    return v


# In-place running averages shared by the optimizers (``tmp``: a scratch array of the same shape).
def lerp_(avg, x, weight: float) -> None:
    """avg ← avg + weight·(x − avg)  (PyTorch's ``avg.lerp_(x, weight)``)."""
    axpby(weight, x, 1.0 - weight, avg)


def square_average_(avg, g, decay: float, tmp) -> None:
    """avg ← decay·avg + (1 − decay)·g²  (Adam's and RMSprop's second moment)."""
    xp.multiply(g, g, out=tmp)
    axpby(1.0 - decay, tmp, decay, avg)
