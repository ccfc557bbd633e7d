"""A custom autograd.Function, torch.autograd.grad with create_graph, and a second derivative."""
import torch


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x ** 2


def main():
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = Cube.apply(x).sum()
    y.backward()
    first = x.grad.tolist()
    z = torch.tensor([1.0, 2.0], requires_grad=True)
    f = (z.sin() * z ** 2).sum()
    (g,) = torch.autograd.grad(f, z, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), [z])
    return {"cube_grad": first, "grad": g.tolist(), "second": h.tolist()}
