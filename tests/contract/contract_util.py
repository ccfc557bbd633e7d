"""Shared helpers of the DESIGN.md conformance suite: run the same code in chainrule and PyTorch."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

import chainrule as cr

TOL = {np.dtype(np.float32): dict(rtol=2e-5, atol=2e-5), np.dtype(np.float64): dict(rtol=1e-9, atol=1e-9)}


def pair(a, requires_grad: bool = True):
    """The same array as a chainrule tensor and a torch tensor (gradients only for floats)."""
    a = np.asarray(a)
    rg = requires_grad and a.dtype.kind == "f"
    return cr.tensor(a.copy(), requires_grad=rg), torch.tensor(a.copy(), requires_grad=rg)


def compare(cr_fn: Callable, torch_fn: Callable, arrays: Sequence, seed: int = 0, rtol=None, atol=None,
            grads: bool = True) -> None:
    """Forward value, dtype and shape, then every input's gradient for a random upstream gradient."""
    xs, ts = zip(*(pair(a) for a in arrays)) if arrays else ((), ())
    y, ty = cr_fn(*xs), torch_fn(*ts)
    assert isinstance(y, cr.Tensor), type(y)
    assert y.shape == tuple(ty.shape), f"shape {y.shape} != torch {tuple(ty.shape)}"
    assert str(y.dtype) == str(ty.dtype).replace("torch.", "chainrule."), f"dtype {y.dtype} != torch {ty.dtype}"
    tol = dict(TOL.get(y.dtype, dict(rtol=0, atol=0)))
    if rtol is not None:
        tol["rtol"] = rtol
    if atol is not None:
        tol["atol"] = atol
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), err_msg="forward", **tol)
    if not grads or not ty.requires_grad:
        return
    up = np.random.default_rng(seed).standard_normal(y.shape).astype(y.dtype)
    y.backward(cr.tensor(up))
    ty.backward(torch.tensor(up))
    for i, (x, t) in enumerate(zip(xs, ts)):
        if not t.requires_grad:
            continue
        if t.grad is None:
            assert x.grad is None or not np.any(x.grad.numpy()), f"input {i}: torch gives no gradient"
            continue
        assert x.grad is not None, f"input {i}: no gradient"
        assert isinstance(x.grad, cr.Tensor)
        assert x.grad.shape == x.shape and x.grad.dtype == x.dtype, f"input {i}: grad {x.grad.shape} {x.grad.dtype}"
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), err_msg=f"grad of input {i}", **tol)


def randn(*shape, seed: int = 0, dtype=np.float64, kind: str = "normal"):
    a = np.random.default_rng(seed).standard_normal(shape)
    if kind == "positive":
        a = np.abs(a) + 0.5
    elif kind == "away":
        a = np.where(a >= 0, a + 0.25, a - 0.25)
    return np.asarray(a, dtype=dtype)
