"""User-defined ops, PyTorch style: subclass ``Function`` and call ``MyFn.apply(...)``.

``forward(ctx, *inputs)`` runs on Tensors with recording off;
``backward(ctx, *grad_outputs)`` returns one gradient (or None) per input.
The op becomes a node like any built-in one, so the engine is unchanged.
"""
from __future__ import annotations

from typing import Any

from . import autograd as _ag
from .errors import AutogradError
from .ops.registry import Op, output
from .tensor import Tensor


class FunctionCtx:
    """What ``forward`` leaves for ``backward``."""

    def __init__(self) -> None:
        self._saved: tuple = ()
        self.needs_input_grad: tuple = ()

    def save_for_backward(self, *tensors) -> None:
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None:
            raise AutogradError("saved tensors were freed after backward; use retain_graph=True")
        return self._saved

    def mark_non_differentiable(self, *tensors) -> None:
        pass


def _user_rule(tensor_mode: bool):
    """The user's backward as a rule: on Tensors with recording on for create_graph=True, else
    with recording off and the gradients handed on as arrays.  The ctx is the op's residual."""

    def rule(F, g, xs, ctx, kw, need):
        fn = kw["fn"]
        with _ag.set_grad_enabled(tensor_mode):
            grads = fn.backward(ctx, g if tensor_mode else Tensor._make(g, None))
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) < len(need):
            raise AutogradError(f"{fn.__name__}.backward returned {len(grads)} gradients for {len(need)} inputs")
        out = []
        for i, (n, gi) in enumerate(zip(need, grads)):
            if not n or gi is None:
                out.append(None)
                continue
            if not isinstance(gi, Tensor):
                gi = Tensor.of(gi)
            shape, dtype = kw["shapes"][i], kw["dtypes"][i]
            if gi._data.shape != shape:
                raise AutogradError(
                    f"{fn.__name__}.backward returned a gradient of shape {gi._data.shape} for input {i} "
                    f"of shape {shape}"
                )
            if gi._data.dtype != dtype:  # PyTorch casts a gradient to its input's dtype
                gi = gi.to(dtype)
            out.append(gi if tensor_mode else gi._data)
        return tuple(out)

    return rule


class Function:
    """Base class for a differentiable op written by the user."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        with _ag.no_grad():
            out = cls.forward(ctx, *args)
        if not isinstance(out, Tensor):
            raise AutogradError(f"{cls.__name__}.forward must return one Tensor, got {type(out).__name__}")
        xd = tuple(a._data if isinstance(a, Tensor) else a for a in args)
        kw = {"fn": cls, "shapes": tuple(getattr(v, "shape", None) for v in xd),
              "dtypes": tuple(getattr(v, "dtype", None) for v in xd)}
        # the ctx (and what forward saved in it) is the node's residual: freed after backward like any
        return output(_ops_for(cls), args, xd, out._data, kw, res=ctx)


_OPS: dict = {}


def _ops_for(cls) -> Op:
    op = _OPS.get(cls)
    if op is None:
        op = Op(cls.__name__, None, _user_rule(True), saves="", residual=True, fast=_user_rule(False))
        _OPS[cls] = op
    return op
