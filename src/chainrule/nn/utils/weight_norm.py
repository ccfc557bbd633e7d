"""``nn.utils.weight_norm`` / ``remove_weight_norm``: w = g · v/‖v‖ (Salimans & Kingma, 2016), with PyTorch's
parameter names (``weight_g``, ``weight_v``) and its forward pre-hook recomputing ``weight`` before each call."""
from __future__ import annotations

from ...ops.reduce import norm
from ...tensor import Tensor

__all__ = ["remove_weight_norm", "weight_norm"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """‖v‖ over every axis but ``dim`` (all axes for dim = −1), kept as size-1 axes so it broadcasts."""
    if dim == -1:
        return norm(v)
    axes = tuple(a for a in range(v.ndim) if a != dim)
    return norm(v, 2, axes, True) if axes else v.abs()


class WeightNorm:
    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def compute_weight(self, module) -> Tensor:
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module, inputs) -> None:
        module.__dict__[self.name] = self.compute_weight(module)


def _hooks_of(module) -> dict:
    return {} if module._hooks is None else module._hooks[0]


def weight_norm(module, name: str = "weight", dim: int | None = 0):
    """Replace ``module.<name>`` by ``<name>_g`` (its norm) and ``<name>_v`` (its direction), both trained."""
    from ..parameter import Parameter

    for hook in _hooks_of(module).values():
        if isinstance(hook, WeightNorm) and hook.name == name:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"weight_norm: {type(module).__name__} has no parameter {name!r} "
                         f"(it has {sorted(module._parameters)})")
    dim = -1 if dim is None else dim
    if not -1 <= dim < weight.ndim:
        raise ValueError(f"weight_norm: dim {dim} is out of range for {name} of shape {tuple(weight.shape)}")
    fn = WeightNorm(name, dim)
    delattr(module, name)
    module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    fn(module, None)
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Fold ``<name>_g`` and ``<name>_v`` back into one parameter ``<name>``."""
    from ..parameter import Parameter

    hooks = _hooks_of(module)
    for key, hook in list(hooks.items()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            weight = hook.compute_weight(module).detach()
            del hooks[key]
            module.__dict__.pop(name, None)
            delattr(module, name + "_g")
            delattr(module, name + "_v")
            module.register_parameter(name, Parameter(weight))
            return module
    raise ValueError(f"weight_norm of {name!r} not found in {type(module).__name__}")
