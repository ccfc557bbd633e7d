"""Gradients of the nn primitives against central differences (float64), and second derivatives
(create_graph=True) against PyTorch's."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr

F = cr.nn.functional
TF = torch.nn.functional


def _r(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def _t(a, grad=True):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(dilation=2, padding=(1, 2)),
                                dict(stride=(1, 2), groups=2)], ids=["plain", "stride-pad", "dilation", "groups"])
def test_conv2d_gradcheck(kw):
    x, w, b = _t(_r(2, 4, 5, 6)), _t(_r(4, 4 // kw.get("groups", 1), 3, 2, seed=1)), _t(_r(4, seed=2))
    assert cr.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b))


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                                dict(kernel_size=2, stride=1, dilation=2)], ids=["plain", "overlap-pad", "dilation"])
def test_max_pool2d_gradcheck(kw):
    x = _t(np.random.default_rng(0).permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) / 7.0)  # no ties
    assert cr.gradcheck(lambda x: F.max_pool2d(x, **kw), (x,))


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=3, stride=1, padding=1, count_include_pad=False)])
def test_avg_pool2d_gradcheck(kw):
    assert cr.gradcheck(lambda x: F.avg_pool2d(x, **kw), (_t(_r(2, 2, 5, 5)),))


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 3, 2, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(shape, training):
    x, w, b = _t(_r(*shape, scale=2) + 1), _t(_r(3, seed=1)), _t(_r(3, seed=2))
    rm, rv = cr.tensor(_r(3, seed=3)), cr.tensor(np.abs(_r(3, seed=4)) + 0.5)

    def fn(x, w, b):
        return F.batch_norm(x, cr.tensor(rm.numpy()), cr.tensor(rv.numpy()), w, b, training=training)

    assert cr.gradcheck(fn, (x, w, b))
    assert cr.gradcheck(lambda x: F.batch_norm(x, None, None, training=True), (x,))


@pytest.mark.parametrize("ns", [(5,), (3, 5)])
def test_layer_norm_gradcheck(ns):
    x, w, b = _t(_r(2, 3, 5)), _t(_r(*ns, seed=1)), _t(_r(*ns, seed=2))
    assert cr.gradcheck(lambda x, w, b: F.layer_norm(x, ns, w, b), (x, w, b))
    assert cr.gradcheck(lambda x: F.layer_norm(x, ns), (x,))


def test_embedding_and_leaky_relu_gradcheck():
    w = _t(_r(5, 3))
    idx = cr.tensor([[0, 4, 4], [2, 0, 1]])
    assert cr.gradcheck(lambda w: F.embedding(idx, w), (w,))  # (padding_idx deliberately drops gradients)
    assert cr.gradcheck(lambda x: F.leaky_relu(x, 0.2), (_t(_r(4, 3)),))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_gradcheck(reduction):
    x, y = _t(_r(4, 3)), _t(np.random.default_rng(5).random((4, 3)))
    cls = cr.tensor([0, 2, 1, 2])
    w = cr.tensor(np.array([1.0, 2.0, 0.5]))
    assert cr.gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), (x, y))
    assert cr.gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                                         pos_weight=cr.tensor(np.array([2.0]))), (x, y))
    assert cr.gradcheck(lambda a: F.cross_entropy(a, cls, reduction=reduction), (x,))
    assert cr.gradcheck(lambda a: F.cross_entropy(a, cls, w, ignore_index=1, reduction=reduction,
                                                  label_smoothing=0.1), (x,))
    assert cr.gradcheck(lambda a: F.nll_loss(a, cls, w, reduction=reduction), (x,))


# ------------------------------------------------------------------ second order, against PyTorch
def _second_order(cr_fn, t_fn, arrays, seed=0):
    """d/d(inputs) of <v, d(f)/d(inputs)>: the Hessian-vector product in both libraries."""
    cx = [_t(a) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    cg = cr.grad(cr_fn(*cx), cx, create_graph=True)
    tg = torch.autograd.grad(t_fn(*tx), tx, create_graph=True)
    rng = np.random.default_rng(seed)
    vs = [rng.standard_normal(a.shape) for a in arrays]
    cs = sum((g * cr.tensor(v)).sum() for g, v in zip(cg, vs))
    ts = sum((g * torch.tensor(v)).sum() for g, v in zip(tg, vs))
    chh = cr.grad(cs, cx, allow_unused=True)
    thh = torch.autograd.grad(ts, tx, allow_unused=True)
    for i, (c, t) in enumerate(zip(chh, thh)):
        if t is None:
            assert c is None or not c.numpy().any()
            continue
        np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-7, atol=1e-9, err_msg=f"input {i}")


def test_conv2d_second_order():
    def cr_fn(x, w):
        return (F.conv2d(x, w, stride=2, padding=1).tanh() ** 2).sum()

    def t_fn(x, w):
        return (TF.conv2d(x, w, stride=2, padding=1).tanh() ** 2).sum()

    _second_order(cr_fn, t_fn, [_r(2, 3, 5, 5), _r(4, 3, 3, 3, seed=1)])


def test_pools_second_order():
    x = np.random.default_rng(0).permutation(50).reshape(1, 2, 5, 5) / 9.0
    _second_order(lambda x: (F.max_pool2d(x, 3, 1, 1) ** 3).sum(), lambda x: (TF.max_pool2d(x, 3, 1, 1) ** 3).sum(),
                  [x])
    _second_order(lambda x: (F.avg_pool2d(x, 2) ** 3).sum(), lambda x: (TF.avg_pool2d(x, 2) ** 3).sum(), [x])


def test_norms_second_order():
    x, w, b = _r(4, 3, 2, 2, scale=2), _r(3, seed=1), _r(3, seed=2)
    _second_order(lambda x, w, b: (F.batch_norm(x, None, None, w, b, training=True) ** 3).sum(),
                  lambda x, w, b: (TF.batch_norm(x, None, None, w, b, training=True) ** 3).sum(), [x, w, b])
    x, w, b = _r(3, 6), _r(6, seed=1), _r(6, seed=2)
    _second_order(lambda x, w, b: (F.layer_norm(x, (6,), w, b) ** 3).sum(),
                  lambda x, w, b: (TF.layer_norm(x, (6,), w, b) ** 3).sum(), [x, w, b])


def test_losses_second_order():
    x, y = _r(4, 3), np.random.default_rng(1).random((4, 3))
    _second_order(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=cr.tensor(np.array([1.5]))),
                  lambda a, b: TF.binary_cross_entropy_with_logits(a, b, pos_weight=torch.tensor([1.5],
                                                                                              dtype=torch.float64)),
                  [x, y])
    _second_order(lambda a, b: F.mse_loss(a, b) * F.mse_loss(a, b), lambda a, b: TF.mse_loss(a, b) ** 2, [x, y])
    _second_order(lambda a: F.leaky_relu(a, 0.1).pow(3).sum(), lambda a: TF.leaky_relu(a, 0.1).pow(3).sum(), [x])


def test_bce_on_probabilities_gradcheck_and_second_order():
    p = _t(np.random.default_rng(0).uniform(0.1, 0.9, (3, 2)))
    t = _t(np.random.default_rng(1).random((3, 2)))
    assert cr.gradcheck(lambda p, t: F.binary_cross_entropy(p, t, reduction="none"), (p, t))
    _second_order(lambda p, t: F.binary_cross_entropy(p, t), lambda p, t: TF.binary_cross_entropy(p, t),
                  [p.numpy(), t.numpy()])
