"""Tensor.register_post_accumulate_grad_hook: once per leaf per backward, with the leaf's whole gradient."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr


def _net(lib, w1, w2):
    return lambda x: (lib.tanh(x @ w1) @ w2).sum()


def test_fires_once_per_leaf_after_accumulation_in_reverse_layer_order():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((3, 4), (4, 2))]
    x = rng.standard_normal((5, 3))
    ws = [cr.tensor(a, requires_grad=True) for a in arrays]
    seen = []
    for i, w in enumerate(ws):
        w.register_post_accumulate_grad_hook(lambda t, i=i: seen.append((i, t.grad.numpy().copy())))
    _net(cr, *ws)(cr.tensor(x)).backward()
    tw = [torch.tensor(a, requires_grad=True) for a in arrays]
    _net(torch, *tw)(torch.tensor(x)).backward()
    assert [i for i, _ in seen] == [1, 0]
    for i, g in seen:
        np.testing.assert_allclose(g, tw[i].grad.numpy(), rtol=1e-12)


def test_a_leaf_used_twice_fires_once_with_the_sum():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.numpy().copy()))
    ((w * 3.0).sum() + (w * w).sum()).backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], [5.0, 7.0])  # 3 + 2w


def test_accumulates_across_backward_calls_and_remove():
    w = cr.tensor([1.0], requires_grad=True)
    calls = []
    handle = w.register_post_accumulate_grad_hook(lambda t: calls.append(float(t.grad.item())))
    (w * 2.0).sum().backward()
    (w * 2.0).sum().backward()
    handle.remove()
    (w * 2.0).sum().backward()
    assert calls == [2.0, 4.0]  # the hook sees .grad after accumulation, as in PyTorch


def test_not_for_cr_grad_and_only_on_leaves():
    w = cr.tensor([1.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(calls.append)
    cr.grad((w * 2.0).sum(), [w])
    assert calls == [] and w.grad is None
    with pytest.raises(cr.AutogradError, match="leaf tensors that require grad"):
        (w * 2.0).register_post_accumulate_grad_hook(print)
