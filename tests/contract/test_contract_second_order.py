"""Every differentiable op of DESIGN.md: gradient equal to central differences (cr.gradcheck, float64)
and second-order products (create_graph=True) equal to PyTorch's."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from contract_util import randn

import chainrule as cr

F, TF = cr.nn.functional, torch.nn.functional
IDX = np.array([2, 0, 2])
MASK = np.array([[True, False, True, True], [False, True, True, False], [True, True, False, False]])

# name -> (chainrule fn, torch fn, input shapes, input kind); both receive the same float64 tensors
OPS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (4,)], "normal"),
    "sub": (lambda a, b: 2 - a - b, lambda a, b: 2 - a - b, [(3, 4), (3, 1)], "normal"),
    "mul": (lambda a, b: a * b * a, lambda a, b: a * b * a, [(3, 4), (4,)], "normal"),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [(3, 4), (4,)], "positive"),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, [(3, 4), (4,)], "positive"),
    "pow_scalar": (lambda a: a ** 3 + 2 ** a, lambda a: a ** 3 + 2 ** a, [(3, 4)], "normal"),
    "neg": (lambda a: -a * a, lambda a: -a * a, [(3, 4)], "normal"),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 5)], "normal"),
    "exp": (cr.exp, torch.exp, [(3, 4)], "normal"),
    "log": (cr.log, torch.log, [(3, 4)], "positive"),
    "sqrt": (cr.sqrt, torch.sqrt, [(3, 4)], "positive"),
    "abs": (lambda a: cr.abs(a) * a, lambda a: torch.abs(a) * a, [(3, 4)], "away"),
    "sin": (cr.sin, torch.sin, [(3, 4)], "normal"),
    "cos": (cr.cos, torch.cos, [(3, 4)], "normal"),
    "tanh": (cr.tanh, torch.tanh, [(3, 4)], "normal"),
    "sigmoid": (cr.sigmoid, torch.sigmoid, [(3, 4)], "normal"),
    "relu": (lambda a: cr.relu(a) * a, lambda a: torch.relu(a) * a, [(3, 4)], "away"),
    "clip": (lambda a: cr.clip(a, -0.5, 0.7) * a, lambda a: torch.clamp(a, -0.5, 0.7) * a, [(3, 4)], "normal"),
    "maximum": (lambda a, b: cr.maximum(a, b) * a, lambda a, b: torch.maximum(a, b) * a, [(3, 4), (4,)], "normal"),
    "minimum": (lambda a, b: cr.minimum(a, b) * b, lambda a, b: torch.minimum(a, b) * b, [(3, 4), (4,)], "normal"),
    "where": (lambda a, b: cr.where(a > 0, a * b, b * b), lambda a, b: torch.where(a > 0, a * b, b * b),
              [(3, 4), (4,)], "normal"),
    "sum": (lambda a: cr.sum(a * a, axis=1), lambda a: torch.sum(a * a, 1), [(3, 4)], "normal"),
    "mean": (lambda a: cr.mean(a * a, axis=(0, 2), keepdims=True), lambda a: torch.mean(a * a, (0, 2), True),
             [(2, 3, 4)], "normal"),
    "max": (lambda a: cr.amax(a * a, axis=0), lambda a: torch.amax(a * a, 0), [(3, 4)], "normal"),
    "min": (lambda a: cr.amin(a, axis=-1) * cr.min(a), lambda a: torch.amin(a, -1) * torch.amin(a), [(3, 4)],
            "normal"),
    "var": (lambda a: cr.var(a, axis=1), lambda a: torch.var(a, 1), [(3, 4)], "normal"),
    "std": (lambda a: cr.std(a, axis=0, correction=0), lambda a: torch.std(a, 0, correction=0), [(3, 4)], "normal"),
    "logsumexp": (lambda a: cr.logsumexp(a, axis=1), lambda a: torch.logsumexp(a, 1), [(3, 4)], "normal"),
    "softmax": (lambda a: cr.softmax(a, axis=0), lambda a: torch.softmax(a, 0), [(3, 4)], "normal"),
    "log_softmax": (lambda a: cr.log_softmax(a, dim=1), lambda a: torch.log_softmax(a, 1), [(3, 4)], "normal"),
    "getitem": (lambda a: a[1:, None, ::2].sum() * a[IDX][:, None] + a[MASK].sum() * a[-1, ...],
                lambda a: a[1:, None, ::2].sum() * a[torch.tensor(IDX)][:, None] + a[torch.tensor(MASK)].sum()
                * a[-1, ...],
                [(3, 4)], "normal"),
    "reshape": (lambda a: a.reshape(4, 3) * a.reshape(-1, 3), lambda a: a.reshape(4, 3) * a.reshape(-1, 3), [(3, 4)],
                "normal"),
    "transpose": (lambda a: a.transpose(0, 1) * a.T, lambda a: a.transpose(0, 1) * a.T, [(3, 4)], "normal"),
    "permute": (lambda a: a.permute(2, 0, 1) * a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1) ** 2, [(2, 3, 4)],
                "normal"),
    "flatten": (lambda a: a.flatten() * a.flatten(), lambda a: a.flatten() ** 2, [(2, 3)], "normal"),
    "squeeze": (lambda a: a.squeeze(1) * a.unsqueeze(0).squeeze(), lambda a: a.squeeze(1) * a.unsqueeze(0).squeeze(),
                [(3, 1, 2)], "normal"),
    "expand": (lambda a: a.expand(2, 3, 4) * cr.broadcast_to(a, (2, 3, 4)), lambda a: a.expand(2, 3, 4) ** 2,
               [(3, 1)], "normal"),
    "cat": (lambda a, b: cr.cat([a * b, b], axis=1), lambda a, b: torch.cat([a * b, b], 1), [(3, 4), (3, 4)],
            "normal"),
    "stack": (lambda a, b: cr.stack([a * b, a], dim=-1), lambda a, b: torch.stack([a * b, a], -1), [(3, 4), (3, 4)],
              "normal"),
    "pad": (lambda a: cr.pad(a * a, (1, 2, 0, 1), value=0.5), lambda a: TF.pad(a * a, (1, 2, 0, 1), value=0.5),
            [(3, 4)], "normal"),
    "linear": (lambda x, w, b: F.linear(x * x, w, b), lambda x, w, b: TF.linear(x * x, w, b), [(3, 4), (2, 4), (2,)],
               "normal"),
    "gelu": (F.gelu, TF.gelu, [(3, 4)], "normal"),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.1) * a, lambda a: TF.leaky_relu(a, 0.1) * a, [(3, 4)], "away"),
    "mse_loss": (lambda a, b: F.mse_loss(a * a, b), lambda a, b: TF.mse_loss(a * a, b), [(3, 4), (3, 4)], "normal"),
    "cross_entropy": (lambda a: F.cross_entropy(a, cr.tensor(np.array([0, 3, 1]))),
                      lambda a: TF.cross_entropy(a, torch.tensor(np.array([0, 3, 1]))), [(3, 4)], "normal"),
    "nll_loss": (lambda a: F.nll_loss(F.log_softmax(a, dim=1), cr.tensor(np.array([0, 3, 1]))),
                 lambda a: TF.nll_loss(TF.log_softmax(a, 1), torch.tensor(np.array([0, 3, 1]))), [(3, 4)], "normal"),
    "bce_with_logits": (lambda a, b: F.binary_cross_entropy_with_logits(a, cr.sigmoid(b)),
                        lambda a, b: TF.binary_cross_entropy_with_logits(a, torch.sigmoid(b)), [(3, 4), (3, 4)],
                        "normal"),
    "conv2d": (lambda x, w: F.conv2d(x, w, padding=1, stride=(1, 2)), lambda x, w: TF.conv2d(x, w, padding=1,
               stride=(1, 2)), [(2, 2, 5, 5), (3, 2, 3, 3)], "normal"),
    "max_pool2d": (lambda x: F.max_pool2d(x * x, 2), lambda x: TF.max_pool2d(x * x, 2), [(1, 2, 4, 4)], "normal"),
    "avg_pool2d": (lambda x: F.avg_pool2d(x * x, 2, 1), lambda x: TF.avg_pool2d(x * x, 2, 1), [(1, 2, 4, 4)],
                   "normal"),
    "batch_norm": (lambda x, w: F.batch_norm(x, None, None, w, None, training=True),
                   lambda x, w: TF.batch_norm(x, None, None, w, None, training=True), [(4, 3), (3,)], "normal"),
    "layer_norm": (lambda x, w: F.layer_norm(x, (4,), w), lambda x, w: TF.layer_norm(x, (4,), w), [(3, 4), (4,)],
                   "normal"),
    "embedding": (lambda w: F.embedding(cr.tensor(IDX), w) ** 2, lambda w: TF.embedding(torch.tensor(IDX), w) ** 2,
                  [(3, 4)], "normal"),
    "dropout_eval": (lambda a: F.dropout(a * a, 0.5, training=False), lambda a: TF.dropout(a * a, 0.5, False),
                     [(3, 4)], "normal"),
}


def _inputs(name):
    shapes, kind = OPS[name][2], OPS[name][3]
    return [randn(*s, seed=80 + i, kind=kind) for i, s in enumerate(shapes)]


@pytest.mark.parametrize("name", list(OPS))
def test_gradcheck_float64(name):
    xs = [cr.tensor(a, requires_grad=True) for a in _inputs(name)]
    assert cr.gradcheck(OPS[name][0], xs)


@pytest.mark.parametrize("name", list(OPS))
def test_second_order_vs_torch(name):
    cf, tf = OPS[name][0], OPS[name][1]
    arrays = _inputs(name)
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = cf(*xs), tf(*ts)
    v = randn(*y.shape, seed=90)
    gs = cr.grad((y * cr.tensor(v)).sum(), xs, create_graph=True)
    tgs = torch.autograd.grad((ty * torch.tensor(v)).sum(), ts, create_graph=True)
    for g, tg in zip(gs, tgs):
        np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-8, atol=1e-10)
    us = [randn(*a.shape, seed=91 + i) for i, a in enumerate(arrays)]
    s = sum((g * cr.tensor(u)).sum() for g, u in zip(gs, us) if g.requires_grad)
    ts_ = sum((tg * torch.tensor(u)).sum() for tg, u in zip(tgs, us) if tg.requires_grad)
    if not isinstance(ts_, torch.Tensor):
        assert not isinstance(s, cr.Tensor)  # torch: the gradient is constant, so is ours
        return
    hs = cr.grad(s, xs, allow_unused=True)
    ths = torch.autograd.grad(ts_, ts, allow_unused=True)
    for i, (h, th) in enumerate(zip(hs, ths)):
        if th is None:
            assert h is None or not np.any(h.numpy()), f"input {i}"
            continue
        assert h is not None, f"input {i}: no second-order gradient"
        np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-7, atol=1e-9, err_msg=f"input {i}")
