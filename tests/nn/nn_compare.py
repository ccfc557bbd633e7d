"""Run a chainrule module and its PyTorch twin (same weights) and compare outputs and gradients."""
from __future__ import annotations

import numpy as np
import torch

import chainrule as cr


def copy_weights(cm, tm) -> None:
    """PyTorch's state dict into chainrule's (also checks the keys and shapes agree)."""
    sd = {k: v.detach().numpy().copy() for k, v in tm.state_dict().items()}
    assert list(sd) == list(cm.state_dict()), (list(sd), list(cm.state_dict()))
    cm.load_state_dict(sd)


def compare_module(cm, tm, x: np.ndarray, *, rtol=1e-5, atol=1e-5, seed=0, grad_input=True, target=None) -> None:
    """Forward values, then input and parameter gradients for a random upstream gradient."""
    copy_weights(cm, tm)
    floating = x.dtype.kind == "f"
    cx = cr.tensor(x, requires_grad=floating and grad_input)
    tx = torch.tensor(x, requires_grad=floating and grad_input)
    y = cm(cx)
    ty = tm(tx)
    assert y.shape == tuple(ty.shape)
    assert y.dtype == np.dtype(str(ty.dtype).replace("torch.", ""))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol, atol=atol, err_msg="forward")
    up = np.random.default_rng(seed).standard_normal(y.shape).astype(y.dtype)
    y.backward(cr.tensor(up))
    ty.backward(torch.tensor(up))
    if floating and grad_input:
        np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=atol, err_msg="input grad")
    tparams = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        tp = tparams[name]
        assert p.grad is not None, name
        assert p.grad.dtype == p.dtype
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"grad {name}")
    tbufs = dict(tm.named_buffers())
    for name, b in cm.named_buffers():
        np.testing.assert_allclose(b.numpy(), tbufs[name].numpy(), rtol=rtol, atol=atol, err_msg=f"buffer {name}")
