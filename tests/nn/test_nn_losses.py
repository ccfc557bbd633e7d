"""Losses against PyTorch for every reduction: values and gradients (logits and, where they exist, targets)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr

REDUCTIONS = ["mean", "sum", "none"]
rng = np.random.default_rng(0)


def _both(cr_loss, t_loss, x, target, *, grad_target=False, rtol=1e-5, atol=1e-6):
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    floating = target.dtype.kind == "f"
    ct = cr.tensor(target, requires_grad=grad_target and floating)
    tt = torch.tensor(target, requires_grad=grad_target and floating)
    y, ty = cr_loss(cx, ct), t_loss(tx, tt)
    assert y.shape == tuple(ty.shape)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol, atol=atol, err_msg="loss")
    up = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(cr.tensor(up))
    ty.backward(torch.tensor(up))
    assert cx.grad.dtype == np.float32
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=atol, err_msg="input grad")
    if grad_target and floating:
        np.testing.assert_allclose(ct.grad.numpy(), tt.grad.numpy(), rtol=rtol, atol=atol, err_msg="target grad")


def _f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse(reduction):
    _both(cr.nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), _f32(4, 3), _f32(4, 3),
          grad_target=True)


def test_mse_refuses_silent_broadcast():
    with pytest.raises(cr.ShapeError, match=r"\(4, 1\).*\(4,\)"):
        cr.nn.MSELoss()(cr.randn(4, 1), cr.randn(4))


CE_OPTIONS = [
    dict(),
    dict(weight=[1.0, 2.0, 0.5, 1.5, 1.0]),
    dict(ignore_index=2),
    dict(label_smoothing=0.1),
    dict(weight=[1.0, 2.0, 0.5, 1.5, 1.0], ignore_index=1, label_smoothing=0.2),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", CE_OPTIONS, ids=["plain", "weight", "ignore", "smoothing", "all"])
def test_cross_entropy_class_targets(reduction, opts):
    target = np.array([0, 2, 4, 1, 2, 3, 1, 0])
    tw = {k: (torch.tensor(v) if k == "weight" else v) for k, v in opts.items()}
    cw = {k: (cr.tensor(v) if k == "weight" else v) for k, v in opts.items()}
    _both(cr.nn.CrossEntropyLoss(reduction=reduction, **cw), torch.nn.CrossEntropyLoss(reduction=reduction, **tw),
          _f32(8, 5, scale=2), target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [dict(), dict(label_smoothing=0.15), dict(weight=[1.0, 3.0, 0.5])],
                         ids=["plain", "smoothing", "weight"])
def test_cross_entropy_probability_targets(reduction, opts):
    p = rng.random((6, 3)).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    tw = {k: (torch.tensor(v) if k == "weight" else v) for k, v in opts.items()}
    cw = {k: (cr.tensor(v) if k == "weight" else v) for k, v in opts.items()}
    _both(cr.nn.CrossEntropyLoss(reduction=reduction, **cw), torch.nn.CrossEntropyLoss(reduction=reduction, **tw),
          _f32(6, 3), p, grad_target=not opts)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_spatial_and_single_sample(reduction, ignore):
    target = rng.integers(0, 4, (2, 3, 5))
    if ignore:
        target[0, 0, :2] = -100
    _both(cr.nn.CrossEntropyLoss(reduction=reduction), torch.nn.CrossEntropyLoss(reduction=reduction),
          _f32(2, 4, 3, 5), target)
    _both(cr.nn.CrossEntropyLoss(reduction=reduction), torch.nn.CrossEntropyLoss(reduction=reduction),
          _f32(4), np.array(2))


def test_cross_entropy_is_stable_for_huge_logits():
    x = np.array([[1000.0, 0.0, -1000.0], [-1e4, 1e4, 0.0]], dtype=np.float32)
    _both(cr.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), x, np.array([2, 1]))
    _both(cr.nn.CrossEntropyLoss(label_smoothing=0.1), torch.nn.CrossEntropyLoss(label_smoothing=0.1), x,
          np.array([2, 1]))


def test_cross_entropy_plain_case_is_one_fused_node():
    x = cr.randn(4, 3, requires_grad=True)
    loss = cr.nn.functional.cross_entropy(x, cr.tensor([0, 1, 2, 1]))
    assert loss.grad_fn.op.name == "cross_entropy"
    assert loss.grad_fn.next[0] is x


def test_cross_entropy_errors():
    with pytest.raises(cr.ShapeError, match=r"target of shape \(4,\)"):
        cr.nn.CrossEntropyLoss()(cr.randn(4, 3), cr.tensor([0, 1, 2]))
    with pytest.raises(IndexError, match="out of range"):
        cr.nn.CrossEntropyLoss()(cr.randn(2, 3), cr.tensor([0, 3]))
    with pytest.raises(ValueError, match="reduction"):
        cr.nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(cr.ShapeError, match="one per class"):
        cr.nn.CrossEntropyLoss(weight=cr.ones(2))(cr.randn(2, 3), cr.tensor([0, 1]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [dict(), dict(weight=[0.5, 1.0, 2.0, 1.0]), dict(ignore_index=3)],
                         ids=["plain", "weight", "ignore"])
def test_nll(reduction, opts):
    tw = {k: (torch.tensor(v) if k == "weight" else v) for k, v in opts.items()}
    cw = {k: (cr.tensor(v) if k == "weight" else v) for k, v in opts.items()}
    logp = torch.log_softmax(torch.tensor(_f32(7, 4)), 1).numpy()
    _both(cr.nn.NLLLoss(reduction=reduction, **cw), torch.nn.NLLLoss(reduction=reduction, **tw), logp,
          np.array([0, 3, 1, 2, 3, 0, 1]))


def test_nll_spatial():
    _both(cr.nn.NLLLoss(), torch.nn.NLLLoss(), _f32(2, 3, 4, 4), rng.integers(0, 3, (2, 4, 4)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [dict(), dict(weight=True), dict(pos_weight=True), dict(weight=True, pos_weight=True)],
                         ids=["plain", "weight", "pos_weight", "both"])
def test_bce_with_logits(reduction, opts):
    w = rng.random(3).astype(np.float32) + 0.5
    pw = rng.random(3).astype(np.float32) * 3
    tw = {k: torch.tensor(w if k == "weight" else pw) for k in opts}
    cw = {k: cr.tensor(w if k == "weight" else pw) for k in opts}
    target = rng.random((5, 3)).astype(np.float32)
    _both(cr.nn.BCEWithLogitsLoss(reduction=reduction, **cw),
          torch.nn.BCEWithLogitsLoss(reduction=reduction, **tw), _f32(5, 3, scale=3), target, grad_target=True)


def test_bce_with_logits_stable_for_huge_logits():
    x = np.array([[-200.0, 200.0, 0.0, 90.0]], dtype=np.float32)
    t = np.array([[1.0, 0.0, 1.0, 1.0]], dtype=np.float32)
    _both(cr.nn.BCEWithLogitsLoss(reduction="none"), torch.nn.BCEWithLogitsLoss(reduction="none"), x, t,
          grad_target=True)
    _both(cr.nn.BCEWithLogitsLoss(pos_weight=cr.tensor([2.0])),
          torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0])), x, t, grad_target=True)


def test_bce_shape_error():
    with pytest.raises(cr.ShapeError, match="same as input size"):
        cr.nn.BCEWithLogitsLoss()(cr.randn(4, 1), cr.rand(4))


def test_loss_weights_are_buffers_like_torch():
    c = cr.nn.CrossEntropyLoss(weight=cr.ones(3))
    t = torch.nn.CrossEntropyLoss(weight=torch.ones(3))
    assert list(c.state_dict()) == list(t.state_dict()) == ["weight"]
    assert list(cr.nn.CrossEntropyLoss().state_dict()) == list(torch.nn.CrossEntropyLoss().state_dict())


def test_one_hot():
    t = np.array([[0, 2], [1, 3]])
    np.testing.assert_array_equal(cr.nn.functional.one_hot(cr.tensor(t)).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(t)).numpy())
    out = cr.nn.functional.one_hot(cr.tensor([1, 0]), num_classes=5)
    assert out.dtype == np.int64 and out.shape == (2, 5)
    with pytest.raises(IndexError, match="class values"):
        cr.nn.functional.one_hot(cr.tensor([5]), 3)


def test_options_after_weight_are_keyword_only():
    x, t = cr.randn(2, 3), cr.tensor([0, 1])
    with pytest.raises(TypeError):
        cr.nn.functional.cross_entropy(x, t, None, -100)  # PyTorch's order has size_average here
    with pytest.raises(TypeError):
        cr.nn.functional.mse_loss(x, x, "sum")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_l1_and_bce_on_probabilities(reduction):
    _both(cr.nn.L1Loss(reduction=reduction), torch.nn.L1Loss(reduction=reduction), _f32(4, 3), _f32(4, 3),
          grad_target=True)
    p = rng.uniform(0.05, 0.95, (5, 2)).astype(np.float32)
    t = rng.random((5, 2)).astype(np.float32)
    w = rng.random(2).astype(np.float32)
    _both(cr.nn.BCELoss(reduction=reduction), torch.nn.BCELoss(reduction=reduction), p, t, grad_target=True)
    _both(cr.nn.BCELoss(weight=cr.tensor(w), reduction=reduction),
          torch.nn.BCELoss(weight=torch.tensor(w), reduction=reduction), p, t)


def test_bce_on_probabilities_clamps_and_checks():
    _both(cr.nn.BCELoss(reduction="none"), torch.nn.BCELoss(reduction="none"), np.array([0.0, 1.0, 0.5], np.float32),
          np.array([1.0, 0.0, 1.0], np.float32))
    with pytest.raises(ValueError, match="between 0 and 1"):
        cr.nn.BCELoss()(cr.tensor([1.5]), cr.tensor([1.0]))
