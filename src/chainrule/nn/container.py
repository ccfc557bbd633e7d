"""Containers: Sequential (layers applied in order), ModuleList, ModuleDict, ParameterList, ParameterDict."""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterable, Iterator

from ..ops.linalg import fused_linear
from ..tensor import Tensor
from .linear import Linear
from .module import Module
from .parameter import Parameter


class Sequential(Module):
    """Modules applied one after the other; state-dict names are "0.weight", "1.bias", ... as PyTorch."""

    def __init__(self, *args) -> None:
        super().__init__()
        self.__dict__["_steps"] = ((), ())
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                if not isinstance(m, Module):
                    raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, not a cr.nn.Module")
                self.add_module(str(i), m)

    def _layers(self) -> tuple:
        return tuple(m for m in self._modules.values() if m is not None)

    def _plan(self) -> tuple:
        """The steps of forward: the layers, with each Linear that an activation with an in-place
        kernel (its op entry's ``inplace``) directly follows paired with that activation's fused
        op.  Sequential's own cache, rebuilt whenever its list of layers is not the one it was made for."""
        key = tuple(self._modules.values())  # (one C call: the check costs next to nothing per forward)
        cached = self.__dict__["_steps"]
        if cached[0] == key:
            return cached[1]
        layers = self._layers()
        steps, i = [], 0
        while i < len(layers):
            op = getattr(type(layers[i + 1]), "op", None) if i + 1 < len(layers) else None
            if type(layers[i]) is Linear and op is not None and op.inplace is not None:
                steps.append((layers[i], layers[i + 1], fused_linear(op)))
                i += 2
            else:
                steps.append(layers[i])
                i += 1
        self.__dict__["_steps"] = (key, tuple(steps))
        return self.__dict__["_steps"][1]

    def forward(self, x):
        for step in self._plan():
            if step.__class__ is not tuple:
                x = step(x)
                continue
            lin, act, fused = step
            if lin._hooks is None and act._hooks is None and isinstance(x, Tensor):
                # nobody can see the Linear's output: one op, the activation in place (ops/linalg.py)
                x = fused(x, lin.weight, lin.bias)
            else:
                x = act(lin(x))
        return x

    def __getstate__(self):
        d = super().__getstate__()
        d["_steps"] = ((), ())  # a cache of this session's objects, rebuilt on first use
        return d

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        n = len(items)
        if not -n <= idx < n:
            raise IndexError(f"Sequential index {idx} is out of range for {n} modules")
        return items[idx][1]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[idx]
        setattr(self, key, module)

    def __delitem__(self, idx) -> None:
        keys = list(self._modules)
        for k in keys[idx] if isinstance(idx, slice) else [keys[idx]]:
            delattr(self, k)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> "Sequential":
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "Sequential":
        for m in modules:
            self.append(m)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered ("0.weight", ...)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        for m in modules or ():
            self.append(m)

    def append(self, module: Module) -> "ModuleList":
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, idx):
        items = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(items[idx])
        return items[idx]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, list(self._modules)[idx], module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __repr__(self) -> str:
        """PyTorch's compact form: a run of identical layers prints once, as "(0-11): 12 x Block(...)"."""
        reprs = [repr(m).replace("\n", "\n  ") for m in self._modules.values()]
        if not reprs:
            return "ModuleList()"
        lines, start = [], 0
        for i in range(1, len(reprs) + 1):
            if i == len(reprs) or reprs[i] != reprs[start]:
                n = i - start
                lines.append(f"({start}): {reprs[start]}" if n == 1 else f"({start}-{i - 1}): {n} x {reprs[start]}")
                start = i
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules whose parameters are registered ("name.weight", ...)."""

    def __init__(self, modules: dict | None = None) -> None:
        super().__init__()
        for k, m in (modules or {}).items():
            self.add_module(k, m)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()


def _param_line(key: str, p, type_name: bool = False) -> str:
    """PyTorch's one-line description of a parameter: ParameterList names the dtype, ParameterDict the type."""
    size = "x".join(str(s) for s in p.shape)
    kind = p.dtype.tensor_type if type_name else p.dtype.name
    return f"  ({key}): Parameter containing: [chainrule.{kind} of size {size}]"


def _as_parameter(value):
    return value if isinstance(value, Parameter) or not isinstance(value, Tensor) else Parameter(value)


class ParameterList(Module):
    """A list of Parameters registered as "0", "1", ...; plain Tensors become Parameters (as PyTorch)."""

    def __init__(self, values: Iterable | None = None) -> None:
        super().__init__()
        self.__dict__["_size"] = 0
        for v in values or ():
            self.append(v)

    def _key(self, idx: int) -> str:
        n = self._size
        if not -n <= idx < n:
            raise IndexError(f"ParameterList index {idx} is out of range for {n} parameters")
        return str(idx % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        return getattr(self, self._key(idx))

    def __setitem__(self, idx: int, value) -> None:
        setattr(self, self._key(idx), _as_parameter(value))

    def append(self, value) -> "ParameterList":
        self.__dict__["_size"] += 1
        setattr(self, str(self._size - 1), _as_parameter(value))
        return self

    def extend(self, values: Iterable) -> "ParameterList":
        for v in values:
            self.append(v)
        return self

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator:
        return (self[i] for i in range(self._size))

    def extra_repr(self) -> str:
        return "\n".join(_param_line(str(i), p) if isinstance(p, Tensor) else f"  ({i}): Object of type: "
                         f"{type(p).__name__}" for i, p in enumerate(self))


class ParameterDict(Module):
    """A dict of Parameters registered under their keys; plain Tensors become Parameters (as PyTorch)."""

    def __init__(self, parameters: dict | None = None) -> None:
        super().__init__()
        self.__dict__["_keys"] = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str):
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value) -> None:
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def keys(self):
        return self._keys.keys()

    def values(self):
        return [self[k] for k in self._keys]

    def items(self):
        return [(k, self[k]) for k in self._keys]

    def update(self, parameters) -> None:
        for k, v in (parameters.items() if hasattr(parameters, "items") else parameters):
            self[k] = v

    def extra_repr(self) -> str:
        return "\n".join(_param_line(k, p, type_name=True) for k, p in self.items())
