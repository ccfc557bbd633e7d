"""Module: the base class of layers and models; it finds its parameters by itself.

Parameters, buffers and sub-modules are registered when assigned as attributes
and also kept in ``__dict__``, so reading ``self.weight`` costs nothing extra.
Flat parameter lists are cached and rebuilt only after the structure of some
module changes (a global version counter), which keeps ``zero_grad`` and
``parameters()`` cheap in a training loop.
"""
from __future__ import annotations

import numbers
from collections import OrderedDict, namedtuple
from typing import Any, Iterator

from ..backend import xp
from ..boundary import ESCAPES, guard_init, rephrase
from ..errors import ChainruleError, ShapeError
from ..tensor import Tensor
from .parameter import Parameter

_version = [0]  # bumped by every structural change to any module


def _bump() -> None:
    _version[0] += 1


class StateDictError(ChainruleError, RuntimeError):
    """A state dict that does not fit the module: missing or unexpected keys, wrong shapes."""


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class RemovableHandle:
    """Returned by the hook registrations; ``remove()`` takes the hook off again."""

    _next = [0]

    def __init__(self, module: "Module", which: int) -> None:
        self.module, self.which = module, which
        self.id = RemovableHandle._next[0]
        RemovableHandle._next[0] += 1

    def remove(self) -> None:
        hooks = self.module._hooks
        if hooks is not None:
            hooks[self.which].pop(self.id, None)
            if not hooks[0] and not hooks[1]:
                self.module.__dict__["_hooks"] = None  # back to the fast path

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class Module:
    """Base class: subclass it, assign layers and Parameters in ``__init__``, write ``forward``."""

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent"] = set()
        d["_modules"] = {}
        d["_cache"] = None
        d["_hooks"] = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("chainrule."):  # chainrule's own layers: a bad argument is named (boundary.py)
            guard_init(cls)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward() method")

    def __call__(self, *args, **kwargs):
        try:
            if self._hooks is None:  # the usual case costs one attribute test
                return self.forward(*args, **kwargs)
            return self._call_with_hooks(args, kwargs)
        except ChainruleError:
            raise
        except ESCAPES as e:
            new = rephrase(type(self).__name__, e, args, kwargs)  # the user's own modules' errors pass untouched
            if new is e:
                raise
            raise new from None

    # ------------------------------------------------------------ hooks
    def _call_with_hooks(self, args: tuple, kwargs: dict):
        pre, post = self._hooks
        for hook in list(pre.values()):
            out = hook(self, args)
            if out is not None:
                args = out if isinstance(out, tuple) else (out,)
        result = self.forward(*args, **kwargs)
        for hook in list(post.values()):
            out = hook(self, args, result)
            if out is not None:
                result = out
        return result

    def _add_hook(self, which: int, hook) -> "RemovableHandle":
        if self._hooks is None:
            self.__dict__["_hooks"] = ({}, {})
        table = self._hooks[which]
        handle = RemovableHandle(self, which)
        table[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook) -> "RemovableHandle":
        """``hook(module, args) -> None or new args`` runs before every forward."""
        return self._add_hook(0, hook)

    def register_forward_hook(self, hook) -> "RemovableHandle":
        """``hook(module, args, output) -> None or new output`` runs after every forward."""
        return self._add_hook(1, hook)

    # ------------------------------------------------------------ registration
    def _registry(self, name: str) -> dict:
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(
                f"cannot assign to {type(self).__name__} before Module.__init__() was called "
                "(call super().__init__() first)"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if isinstance(value, Parameter):
            params = self._registry("_parameters")
            d["_buffers"].pop(name, None)
            d["_modules"].pop(name, None)
            params[name] = value
            _bump()
        elif isinstance(value, Module):
            mods = self._registry("_modules")
            d["_parameters"].pop(name, None)
            d["_buffers"].pop(name, None)
            mods[name] = value
            _bump()
        elif name in d.get("_parameters", ()):
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} of {type(self).__name__} "
                    "(cr.nn.Parameter or None expected)"
                )
            d["_parameters"][name] = None
            _bump()
        elif name in d.get("_modules", ()):
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} (cr.nn.Module or None expected)"
                )
            d["_modules"][name] = None
            _bump()
        elif name in d.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} (Tensor or None expected)")
            d["_buffers"][name] = value
            _bump()
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for reg in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(reg, ()):
                del self.__dict__[reg][name]
                _bump()
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a cr.nn.Parameter or None")
        self._registry("_parameters")[name] = param
        object.__setattr__(self, name, param)
        _bump()

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is state but not trained (running statistics); saved unless not persistent."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, not {type(tensor).__name__}")
        if "." in name or not name:
            raise KeyError(f"register_buffer: invalid buffer name {name!r}")
        self._registry("_buffers")[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)
        _bump()

    def add_module(self, name: str, module: "Module | None") -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, not {type(module).__name__}")
        self._registry("_modules")[name] = module
        object.__setattr__(self, name, module)
        _bump()

    register_module = add_module

    # ------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """Every module below (and including) this one, depth first, in registration order."""
        seen = memo if memo is not None else set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if remove_duplicate:
                if id(m) in seen:
                    continue
                seen.add(id(m))
            yield name, m
            kids = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, reg: str, prefix: str, recurse: bool, remove_duplicate: bool = True):
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        seen = set()
        for mname, m in mods:
            for k, v in m.__dict__[reg].items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (f"{mname}.{k}" if mname else k), v

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        if prefix or not recurse or not remove_duplicate:
            return self._named_members("_parameters", prefix, recurse, remove_duplicate)
        cache = self.__dict__["_cache"]
        if cache is None or cache[0] != _version[0]:
            cache = (_version[0], tuple(self._named_members("_parameters", "", True)))
            self.__dict__["_cache"] = cache
        return iter(cache[1])

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> "Module":
        m = self
        for part in target.split(".") if target else ():
            if part not in m._modules or m._modules[part] is None:
                raise AttributeError(f"{type(m).__name__} has no submodule {part!r} (looking up {target!r})")
            m = m._modules[part]
        return m

    def apply(self, fn) -> "Module":
        """``fn(m)`` for every module, children before their parent (PyTorch's order)."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> "Module":
        if not isinstance(mode, bool):
            raise ValueError(f"train(): mode must be a bool, not {mode!r}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for _, p in self.named_parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad = Tensor._make(xp.zeros_like(p.grad._data), None)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, *args, **kwargs) -> "Module":
        """PyTorch's argument forms (devices.parse_to); floating parameters and buffers change dtype in place."""
        from ..devices import parse_to

        _, dtype = parse_to(args, kwargs, f"{type(self).__name__}.to")
        if dtype is None:
            return self
        dtype = xp.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.to only accepts floating point dtypes, but got {dtype}")
        for m in self.modules():
            for reg in ("_parameters", "_buffers"):
                for t in m.__dict__[reg].values():
                    if t is not None and t._data.dtype.kind == "f":
                        t._data = t._data.astype(dtype)
                        if t.grad is not None:
                            t.grad = Tensor._make(t.grad._data.astype(dtype), None)
        return self

    def float(self) -> "Module":
        return self.to(xp.float32)

    def double(self) -> "Module":
        return self.to(xp.float64)

    def cpu(self) -> "Module":
        return self

    def cuda(self, device=None) -> "Module":
        from ..devices import check

        check("cuda" if device is None else device, f"{type(self).__name__}.cuda")
        return self

    # ------------------------------------------------------------ state dict
    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Names -> tensors (sharing memory), in PyTorch's order and with its names."""
        out = OrderedDict() if destination is None else destination
        # a module used twice is saved under each name (PyTorch), so tied layers keep PyTorch's keys
        for mname, m in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            pre = f"{mname}." if mname else ""
            for k, p in m._parameters.items():
                if p is not None:
                    out[pre + k] = p if keep_vars else Tensor._make(p._data, None)
            for k, b in m._buffers.items():
                if b is not None and k not in m._non_persistent:
                    out[pre + k] = b if keep_vars else Tensor._make(b._data, None)
        return out

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False) -> IncompatibleKeys:
        """Copy values into the existing tensors (optimizers keep their references).

        Shape mismatches always raise; with ``strict`` missing and unexpected
        keys raise too.  The error lists every problem at once.  A missing
        ``num_batches_tracked`` is allowed (older checkpoints lack it, as PyTorch allows).
        """
        own = self.state_dict(keep_vars=True)
        # PyTorch also accepts batch norm checkpoints written before num_batches_tracked existed
        missing = [k for k in own if k not in state_dict and not k.endswith("num_batches_tracked")]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        values = {}
        for k, target in own.items():
            if k not in state_dict:
                continue
            arr = _as_array(state_dict[k], k)
            if arr.shape != target._data.shape:
                problems.append(
                    f"size mismatch for {k}: copying a param with shape {tuple(arr.shape)} from the checkpoint, "
                    f"the shape in the current model is {tuple(target._data.shape)}"
                )
            values[k] = arr
        if strict:
            if unexpected:
                problems.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected))
            if missing:
                problems.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing))
        if problems:
            raise StateDictError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(problems)
            )
        for k, arr in values.items():
            t = own[k]
            if assign:
                t._data = arr.astype(t._data.dtype, copy=True)
            else:
                t._data[...] = arr
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ display
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        head = type(self).__name__ + "("
        if not lines:
            return head + ")"
        if len(lines) == 1 and not self._modules:
            return head + lines[0] + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_cache"] = None
        d["_hooks"] = None  # hooks are functions of this session, not state
        return d

    def __setstate__(self, state) -> None:
        self.__dict__.update(state)


def layer_input(x: Any, layer: str) -> Tensor:
    """A layer's input as a Tensor: arrays and nested lists are taken as ``cr.as_tensor`` takes them
    (without a copy), as ReLU and the losses do; anything else is an ArgumentError naming the layer."""
    if isinstance(x, Tensor):
        return x
    from ..creation import as_tensor
    from ..errors import ArgumentError

    if isinstance(x, (xp.ndarray, list, tuple, numbers.Number, xp.generic)):
        try:
            return as_tensor(x)
        except (TypeError, ValueError) as e:
            raise ArgumentError(f"{layer}: cannot use this input as a tensor ({e})") from None
    raise ArgumentError(f"{layer}: expected a Tensor (or array) as input, got {type(x).__name__}")


def _check_device(device) -> None:
    """Layers take PyTorch's ``device=`` argument; only devices that exist here are accepted."""
    if device is not None:
        from ..devices import check

        check(device, "device=")


def _as_array(v, key: str):
    """Accept chainrule Tensors, NumPy arrays and anything array-like (e.g. torch tensors)."""
    if isinstance(v, Tensor):
        return v._data
    if isinstance(v, xp.ndarray):
        return v
    if hasattr(v, "detach") and hasattr(v, "cpu"):  # a torch tensor, without importing torch
        return xp.asarray(v.detach().cpu().numpy())
    try:
        return xp.asarray(v)
    except Exception as e:
        raise ShapeError(f"load_state_dict: value for {key!r} is not array-like ({type(v).__name__})") from e
