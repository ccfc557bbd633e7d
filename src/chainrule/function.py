"""User-defined ops, PyTorch style: subclass ``Function`` and call ``MyFn.apply(...)``.

``forward(ctx, *inputs)`` runs on Tensors with recording off;
``backward(ctx, *grad_outputs)`` returns one gradient (or None) per input.
The op becomes a node like any built-in one, so the engine is unchanged.
"""
from __future__ import annotations

from typing import Any

from . import autograd as _ag
from .errors import AutogradError
from .ops.registry import Op
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


def _user_vjp(F, g, xs, y, kw, need):
    fn, ctx = kw["fn"], kw["ctx"]
    tensor_mode = isinstance(g, Tensor)  # create_graph=True: backward is recorded too
    grad_out = g if tensor_mode else Tensor._make(g, None)
    with _ag.set_grad_enabled(tensor_mode):
        grads = fn.backward(ctx, grad_out)
    if not isinstance(grads, tuple):
        grads = (grads,)
    out = []
    for i, (n, gi) in enumerate(zip(need, grads)):
        if not n or gi is None:
            out.append(None)
            continue
        if not isinstance(gi, Tensor):
            gi = Tensor(gi)
        x = kw["inputs"][i]
        if gi.data.shape != x.data.shape:
            raise AutogradError(
                f"{fn.__name__}.backward returned a gradient of shape {gi.data.shape} for input {i} "
                f"of shape {x.data.shape}"
            )
        out.append(gi if tensor_mode else gi.data)
    if len(grads) < len(need):
        raise AutogradError(
            f"{fn.__name__}.backward returned {len(grads)} gradients for {len(need)} inputs"
        )
    return tuple(out)


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
        op = _ops_for(cls)
        node = _ag.make_node(op, args, tuple(a.data if isinstance(a, Tensor) else a for a in args), None,
                             {"fn": cls, "ctx": ctx, "inputs": args})
        return Tensor._make(out.data, node)


_OPS: dict = {}


def _ops_for(cls) -> Op:
    op = _OPS.get(cls)
    if op is None:
        op = Op(cls.__name__, None, _user_vjp, saves=False, saves_y=False)
        _OPS[cls] = op
    return op
