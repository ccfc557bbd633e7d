"""Optimizer: parameter groups, per-parameter state, and PyTorch's state-dict layout.

Subclasses write ``_update(group, params)``: it runs under no_grad and changes
each parameter's array in place, in the parameter's dtype.
"""
from __future__ import annotations

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
        if not hasattr(params, "__iter__"):
            from ..errors import ArgumentError

            raise ArgumentError(f"{type(self).__name__}: params must be an iterable of Tensors or of param-group "
                                f"dicts (e.g. model.parameters()), got {type(params).__name__}")
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
                    p.grad = Tensor._make(xp.zeros_like(p.grad._data), None)

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
        if buf is None or buf.shape != p._data.shape or buf.dtype != p._data.dtype:
            buf = xp.empty_like(p._data)
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
        """PyTorch's layout, checked before anything changes: a bad state dict raises OptimizerStateError.

        Only the group options this optimizer has are taken (each must be the
        same kind of value as now: a number for a number, a pair for a pair),
        and only the per-parameter state it uses, as tensors of the parameter's
        shape; anything else in the dict (PyTorch's extra options) is ignored.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            got = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise OptimizerStateError(f"an optimizer state dict has the keys 'state' and 'param_groups', got {got}")
        groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) and "params" in g for g in groups):
            raise OptimizerStateError("param_groups must be a list of dicts, each with its 'params'")
        if not isinstance(saved_state, dict):
            raise OptimizerStateError(f"state must be a dict of parameter index -> state, got "
                                      f"{type(saved_state).__name__}")
        if len(groups) != len(self.param_groups):
            raise OptimizerStateError(
                f"loaded state dict has {len(groups)} parameter groups, this optimizer has {len(self.param_groups)}"
            )
        by_index, options = {}, []
        for i, (old, new) in enumerate(zip(self.param_groups, groups)):
            ids = new["params"]
            if not isinstance(ids, (list, tuple)) or not all(_is_index(k) for k in ids):
                raise OptimizerStateError(f"group {i}: params must be a list of parameter indices, got {ids!r:.80}")
            if len(old["params"]) != len(ids):
                raise OptimizerStateError(f"loaded state dict's group {i} has {len(ids)} parameters, "
                                          f"this optimizer's has {len(old['params'])}")
            by_index.update({int(k): (p, i) for k, p in zip(ids, old["params"])})
            options.append({k: _option(old[k], new[k], f"group {i} option {k!r}") for k in old
                            if k != "params" and k in new})
            if "initial_lr" in new and "initial_lr" not in old:  # a scheduler's, set before it was saved
                options[-1]["initial_lr"] = _option(1.0, new["initial_lr"], f"group {i} option 'initial_lr'")
        state: dict = defaultdict(dict)
        for k, st in saved_state.items():
            p, i = by_index.get(int(k), (None, None)) if _is_index(k) else (None, None)
            if p is None:
                raise OptimizerStateError(f"loaded state dict has state for parameter {k!r:.40}, which no group holds")
            state[p] = self._load_param_state(st, p, {**self.param_groups[i], **options[i]}, k)
        self.state = state
        for old, new in zip(self.param_groups, options):
            old.update(new)

    def _state_names(self, group: dict) -> tuple[set, set] | None:
        """(required, optional) per-parameter state names for ``group``; None: any names (checked as tensors)."""
        return None

    def _load_param_state(self, st: Any, p: Tensor, group: dict, index: Any) -> dict:
        where = f"state of parameter {index}"
        if not isinstance(st, dict) or not all(isinstance(n, str) for n in st):
            raise OptimizerStateError(f"{where} must be a dict of name -> tensor, got {type(st).__name__}")
        names = self._state_names(group)
        if names is not None:
            required, optional = names
            missing = sorted(required - st.keys())
            if missing:
                raise OptimizerStateError(f"{where} lacks {', '.join(map(repr, missing))} "
                                          f"(has {sorted(st)}); {type(self).__name__} needs {sorted(required)}")
            st = {n: v for n, v in st.items() if n in required or n in optional}
        out = {}
        for name, v in st.items():
            if v is None and (names is None or name not in names[0]):
                continue  # PyTorch keeps e.g. momentum_buffer=None; absent means the same here
            if not (isinstance(v, (Tensor, xp.ndarray)) or hasattr(v, "detach")
                    or (name == "step" and isinstance(v, (int, float)) and not isinstance(v, bool))):
                raise OptimizerStateError(f"{where}: {name!r} must be a tensor, got {type(v).__name__}")
            out[name] = _cast_state(name, v, p, where)
        return out

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _is_index(k: Any) -> bool:
    return (isinstance(k, int) and not isinstance(k, bool)) or (isinstance(k, str) and k.isdigit())


def _option(current: Any, new: Any, where: str) -> Any:
    """A group option from a file: the kind of value the optimizer holds now (numbers are one kind)."""
    from ..errors import DataError
    from ..schema import conform, number

    try:
        if isinstance(current, (int, float)) and not isinstance(current, bool):
            number(new, where)
            return new
        return conform(current, new, where)
    except DataError as e:
        raise OptimizerStateError(str(e)) from None


def _cast_state(name: str, v: Any, p: Tensor, where: str = "state"):
    """Buffers follow the parameter's dtype, shape and memory order; the step counter stays a scalar tensor."""
    arr = v._data if isinstance(v, Tensor) else (xp.asarray(v.detach().cpu().numpy()) if hasattr(v, "detach")
                                                else xp.asarray(v))
    if arr.dtype.kind not in "biuf":
        raise OptimizerStateError(f"{where}: {name!r} has dtype {arr.dtype}; optimizer state is numeric")
    if name == "step":
        arr = arr.astype(xp.float32)
        if arr.size != 1 or not bool(xp.isfinite(arr).all()) or float(arr.reshape(())) < 0:
            raise OptimizerStateError(f"{where}: 'step' must be one non-negative number, got {arr.shape} {arr!r:.40}")
        return Tensor._make(arr.reshape(()), None)
    if arr.shape != p._data.shape:
        raise OptimizerStateError(
            f"{where}: state {name!r} has shape {arr.shape} but its parameter has shape {p._data.shape}"
        )
    buf = layout.empty_like(p._data)  # the parameter's memory order too, so updates pair them up directly
    buf[...] = arr
    return Tensor._make(buf, None)


# In-place running averages shared by the optimizers (``tmp``: a scratch array of the same shape).
def lerp_(avg, x, weight: float) -> None:
    """avg ← avg + weight·(x − avg)  (PyTorch's ``avg.lerp_(x, weight)``)."""
    axpby(weight, x, 1.0 - weight, avg)


def square_average_(avg, g, decay: float, tmp) -> None:
    """avg ← decay·avg + (1 − decay)·g²  (Adam's and RMSprop's second moment)."""
    xp.multiply(g, g, out=tmp)
    axpby(1.0 - decay, tmp, decay, avg)
