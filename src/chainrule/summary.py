"""A model summary like torchinfo's or Keras's ``summary()``: each layer, its output shape, its parameters.

The shapes are measured, not computed: one example runs through the model with
a forward hook on every layer.
"""
from __future__ import annotations

import numpy as np


def layer_table(model, input_shape: tuple[int, ...]) -> list[tuple[str, str, tuple, int]]:
    """(name, type, output shape with N for the batch, parameter count) per layer, in the order they run."""
    from .autograd import no_grad
    from .tensor import Tensor

    leaves = [(name, m) for name, m in model.named_modules() if name and not any(True for _ in m.children())]
    if not leaves:
        leaves = [(type(model).__name__, model)]
    shapes: dict[int, tuple] = {}

    def record(i):
        def hook(module, args, out) -> None:  # returns None: the output is left as it is
            shapes.setdefault(i, tuple(out.shape))
        return hook

    handles = [m.register_forward_hook(record(i)) for i, (_, m) in enumerate(leaves)]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(Tensor._make(np.zeros((1, *input_shape), np.float32), None))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    rows = []
    for i, (name, m) in enumerate(leaves):
        shape = ("N", *shapes[i][1:]) if i in shapes else ()
        rows.append((name, type(m).__name__, shape, sum(p.numel() for p in m.parameters(recurse=False))))
    return rows


def summary(model, input_shape: tuple[int, ...]) -> str:
    """The table as text, with the input shape and the totals."""
    rows = layer_table(model, input_shape)
    fmt = lambda s: "(" + ", ".join(map(str, s)) + ")"  # noqa: E731
    cells = [("layer", "type", "output shape", "parameters")]
    cells += [(n, t, fmt(s) if s else "-", f"{p:,}") for n, t, s, p in rows]
    widths = [max(len(c[k]) for c in cells) for k in range(4)]
    line = lambda c: (f"{c[0]:<{widths[0]}}  {c[1]:<{widths[1]}}  {c[2]:<{widths[2]}}  "  # noqa: E731
                      f"{c[3]:>{widths[3]}}")
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    rule = "-" * len(line(cells[0]))
    return "\n".join([f"input {fmt(('N', *input_shape))}", line(cells[0]), rule, *map(line, cells[1:]), rule,
                      f"total parameters {total:,} (trainable {trainable:,})"])
