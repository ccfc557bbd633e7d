"""The one place ``explain`` reads chainrule's computation graph.

``view(node)`` gives a node in explain's own terms: its op's name, its parents, the
values it saved, the local derivative rule as text (from the op table), and that
rule applied to an upstream gradient.  Everything in ``explain.graph`` works on these
views, so when the engine's node layout or the op table changes, only this file does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

# The rule of each op in words, for ops whose VJP has no docstring yet; the op table's own text wins.
RULES = {
    "add": "y = a + b:  ∂l/∂a = g,  ∂l/∂b = g (summed over broadcast axes)",
    "sub": "y = a − b:  ∂l/∂a = g,  ∂l/∂b = −g",
    "mul": "y = a·b:  ∂l/∂a = g·b,  ∂l/∂b = g·a",
    "div": "y = a/b:  ∂l/∂a = g/b,  ∂l/∂b = −g·a/b²",
    "neg": "y = −x:  ∂l/∂x = −g",
    "pow": "y = aᵇ:  ∂l/∂a = g·b·aᵇ⁻¹,  ∂l/∂b = g·aᵇ·log a",
    "pow_scalar": "y = xᵖ:  ∂l/∂x = g·p·xᵖ⁻¹",
    "exp": "y = eˣ:  ∂l/∂x = g·y",
    "log": "y = log x:  ∂l/∂x = g/x",
    "sqrt": "y = √x:  ∂l/∂x = g/(2y)",
    "sin": "y = sin x:  ∂l/∂x = g·cos x",
    "cos": "y = cos x:  ∂l/∂x = −g·sin x",
    "tanh": "y = tanh x:  ∂l/∂x = g·(1 − y²)",
    "sigmoid": "y = σ(x):  ∂l/∂x = g·y(1 − y)",
    "relu": "y = max(x, 0):  ∂l/∂x = g where y > 0, else 0",
    "leaky_relu": "y = x or αx:  ∂l/∂x = g where x > 0, else α·g",
    "abs": "y = |x|:  ∂l/∂x = g·sign x",
    "matmul": "y = A B:  ∂l/∂A = g Bᵀ,  ∂l/∂B = Aᵀ g",
    "linear": "y = x Wᵀ + b:  ∂l/∂x = g W,  ∂l/∂W = gᵀ x,  ∂l/∂b = Σ g over the batch",
    "linear_relu": "y = relu(x Wᵀ + b):  g' = g where y > 0, then ∂l/∂x = g' W,  ∂l/∂W = g'ᵀ x,  ∂l/∂b = Σ g'",
    "linear_sigmoid": "y = σ(x Wᵀ + b):  g' = g·y(1 − y), then ∂l/∂x = g' W,  ∂l/∂W = g'ᵀ x,  ∂l/∂b = Σ g'",
    "linear_tanh": "y = tanh(x Wᵀ + b):  g' = g·(1 − y²), then ∂l/∂x = g' W,  ∂l/∂W = g'ᵀ x,  ∂l/∂b = Σ g'",
    "conv2d": "y[n,o,i,j] = Σ_{c,p,q} W[o,c,p,q]·x[n,c,i+p,j+q] + b[o]:  ∂l/∂W[o,c,p,q] = Σ_{n,i,j} g[n,o,i,j]·"
              "x[n,c,i+p,j+q],  ∂l/∂x = the full correlation of g with W,  ∂l/∂b[o] = Σ g[:,o]",
    "max_pool2d": "y = max over each window:  ∂l/∂x = g at the position of each window's maximum, 0 elsewhere",
    "sum": "y = Σ x:  ∂l/∂x = g broadcast back to x's shape",
    "mean": "y = mean x:  ∂l/∂x = g/n broadcast back to x's shape",
    "reshape": "y = x reshaped:  ∂l/∂x = g reshaped back",
    "permute": "y = x with axes reordered:  ∂l/∂x = g with the inverse order",
    "broadcast_to": "y = x broadcast:  ∂l/∂x = g summed over the broadcast axes",
    "getitem": "y = x[index]:  ∂l/∂x = g scattered back into zeros at index",
    "softmax": "y = softmax(x):  ∂l/∂x = y·(g − Σ g·y)",
    "log_softmax": "y = log softmax(x):  ∂l/∂x = g − softmax(x)·Σ g",
    "mse_loss": "l = mean (x − t)²:  ∂l/∂x = 2(x − t)/n · g",
}


@dataclass
class NodeView:
    op: str
    parents: tuple  # per input: a node, a leaf Tensor, or None (a constant)
    inputs: tuple | None  # the input values the rule saved (arrays or numbers), or None
    output: Any  # the output value, if the node saved it (else None)
    rule: str
    vjp: Callable  # vjp(g) -> one gradient (array, shaped like that input) or None per input
    recompute: Callable  # recompute() -> the output value from the saved inputs, or None when it cannot


def node_of(tensor):
    """The node that made ``tensor``, or None for a leaf or a constant."""
    return tensor.grad_fn


def is_node(p) -> bool:
    from ..autograd import Node

    return p.__class__ is Node


def order(node) -> int:
    """Creation order: a node's inputs always come before it."""
    return node.seq


def _shape_to(g, shape):
    """Sum a broadcast gradient back to an input's shape (kept here, whoever does it in the engine)."""
    g = np.asarray(g)
    if g.shape == tuple(shape):
        return g
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for ax, s in enumerate(shape):
        if s == 1 and g.shape[ax] != 1:
            g = g.sum(axis=ax, keepdims=True)
    return g


def view(node, input_shapes: list | None = None) -> NodeView:
    """``node`` in explain's terms.  Raises when its saved values were freed by a backward pass.

    Works with both layouts of the op table: a first-order ``op.fast`` rule where there is one
    (else ``op.vjp``), and the inputs' shapes from ``node.shapes`` where the engine records them."""
    from .. import autograd
    from ..errors import AutogradError

    op = node.op
    rule_fn = getattr(op, "fast", None) or op.vjp
    shapes = getattr(node, "shapes", None) or input_shapes
    if node.freed and (op.saves or op.saves_y):
        raise AutogradError(f"explain.graph: {op.name}'s saved values were freed by a backward pass; explain the "
                            "graph before calling backward(), or call backward(retain_graph=True)")
    rule = RULES.get(op.name) or (op.vjp.__doc__ or "").strip() or f"the VJP rule of {op.name}"
    if op.vjp.__doc__ and op.name not in RULES:
        rule = op.vjp.__doc__.strip().splitlines()[0]
    saved_y = node.y if (op.saves_y and not op.residual) else None

    def vjp(g):
        if hasattr(autograd, "check_saved"):  # a saved value changed in place since: refuse, as backward does
            autograd.check_saved(node)
        gs = rule_fn(autograd._array_math, g, node.xd, node.y, node.kw, node.need)
        out = []
        for k, gi in enumerate(gs):
            if gi is None or not node.need[k]:
                out.append(None)
                continue
            gi = np.asarray(getattr(gi, "data", gi))
            out.append(_shape_to(gi, shapes[k]) if shapes and shapes[k] is not None else gi)
        return tuple(out)

    def recompute():
        if node.xd is None:
            return None
        kw = {k: v for k, v in (node.kw or {}).items() if k != "saved"}
        try:
            y = op.fwd(*node.xd, **kw)
        except (TypeError, ValueError):  # a forward that needs more than the rule saved
            return None
        return y[0] if op.residual else y

    return NodeView(op.name, tuple(node.next), node.xd, saved_y, rule, vjp, recompute)
