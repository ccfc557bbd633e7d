"""torch.autograd.grad with lists for outputs, inputs and grad_outputs (a vector-Jacobian product)."""
import torch

REQUIRES = ("grad_sequences",)


def main():
    z = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([0.5], requires_grad=True)
    v = torch.tensor([0.3, -0.7])
    (vjp,) = torch.autograd.grad([z.exp()], [z], grad_outputs=[v], retain_graph=True)
    gz, gw = torch.autograd.grad(z.exp() * w, (z, w), grad_outputs=v)
    return {"vjp": vjp.tolist(), "gz": gz.tolist(), "gw": gw.tolist()}
