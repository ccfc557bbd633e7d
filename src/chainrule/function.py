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
    fn, ctx = kw["fn"], xs[0]  # the node's saved values are just the ctx, freed with them
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
        shape = kw["shapes"][i]
        if gi.data.shape != shape:
            raise AutogradError(
                f"{fn.__name__}.backward returned a gradient of shape {gi.data.shape} for input {i} "
                f"of shape {shape}"
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
        shapes = tuple(a.data.shape if isinstance(a, Tensor) else None for a in args)
        node = _ag.make_node(op, args, (ctx,), None, {"fn": cls, "shapes": shapes})
        if node is not None:
            # The ctx (and what forward saved in it) hangs only off the node's saved-values slots,
            # so the engine frees it after backward like any op's residuals.
            node.xd = node.xt = (ctx,)
        return Tensor._make(out.data, node)


_OPS: dict = {}


def _ops_for(cls) -> Op:
    op = _OPS.get(cls)
    if op is None:
        op = Op(cls.__name__, None, _user_vjp, saves=True, saves_y=False)
        _OPS[cls] = op
    return op
