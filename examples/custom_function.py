"""A user-defined op with its own backward, checked by gradcheck: softplus = log(1 + eˣ).

    python examples/custom_function.py
"""
from __future__ import annotations

import numpy as np

import chainrule as cr


class Softplus(cr.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return cr.tensor(np.logaddexp(0.0, x.numpy()))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * cr.sigmoid(x)  # d/dx log(1 + eˣ) = σ(x)


def main() -> bool:
    x = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)
    ok = cr.gradcheck(Softplus.apply, (x,))
    y = Softplus.apply(x).sum()
    y.backward()
    print("gradcheck:", ok)
    print("∂y/∂x = σ(x):", np.allclose(x.grad.numpy(), 1 / (1 + np.exp(-x.numpy()))))
    return ok


if __name__ == "__main__":
    main()
