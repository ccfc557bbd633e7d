"""softmax and log_softmax along any axis (and ``dim=``), stable for large inputs, twice differentiable."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import arrays_from_seed, check_op, seeds, shapes
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr


@st.composite
def softmax_case(draw):
    shape = draw(shapes(min_dims=1, max_side=4))
    return shape, draw(st.integers(-len(shape), len(shape) - 1)), draw(st.booleans()), draw(seeds)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(case=softmax_case())
def test_softmax_matches_torch(name, case):
    shape, axis, use_dim, seed = case
    f, tf = getattr(cr, name), getattr(torch, name)
    if use_dim:
        check_op(lambda x: f(x, dim=axis), lambda x: tf(x, dim=axis), arrays_from_seed(seed, [shape]))
    else:
        check_op(lambda x: getattr(x, name)(axis), lambda x: tf(x, axis), arrays_from_seed(seed, [shape]))


def test_softmax_default_axis_is_last():
    a = arrays_from_seed(1, [(2, 3)])[0]
    check_op(cr.softmax, lambda x: torch.softmax(x, -1), [a])
    check_op(cr.log_softmax, lambda x: torch.log_softmax(x, -1), [a])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_is_stable_for_huge_logits(name):
    a = np.array([[1000.0, 0.0, -1000.0], [-5e4, -5e4, -5e4]], dtype=np.float32)
    check_op(lambda x: getattr(cr, name)(x, axis=1), lambda x: getattr(torch, name)(x, 1), [a],
             dtypes=(np.float32,), gradcheck=False)
    y = getattr(cr, name)(cr.tensor(a), axis=1)
    assert np.all(np.isfinite(y.numpy()))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_hessian_vector_product_matches_torch(name):
    a, v, w = arrays_from_seed(3, [(3, 4), (3, 4), (3, 4)])
    f, tf = getattr(cr, name), getattr(torch, name)
    cx, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (g,) = cr.grad((f(cx, axis=0) * cr.tensor(w)).sum(), cx, create_graph=True)
    (tg,) = torch.autograd.grad((tf(tx, 0) * torch.tensor(w)).sum(), tx, create_graph=True)
    np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-12, atol=1e-14)
    (hv,) = cr.grad((g * cr.tensor(v)).sum(), cx)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(hv.numpy(), thv.numpy(), rtol=1e-10, atol=1e-12)


def test_softmax_axis_errors():
    with pytest.raises(cr.ShapeError, match="softmax: axis 2 is out of range"):
        cr.softmax(cr.ones(2, 3), axis=2)
    with pytest.raises(TypeError, match="axis= or dim="):
        cr.log_softmax(cr.ones(2, 3), axis=0, dim=1)


@pytest.mark.parametrize("gap", [0.0, 30.0, 60.0, 1000.0])
def test_cross_entropy_rows_far_apart_like_torch(gap):
    """Rows whose values lie far below the batch's maximum (the per-row fallback)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 5)).astype(np.float32)
    x[1] -= gap
    x[4] += gap
    t = np.array([0, 1, 2, 3, 4, 1])
    X = cr.tensor(x, requires_grad=True)
    loss = cr.ops.softmax_cross_entropy(X, t, "none")
    loss.sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tx, torch.tensor(t), reduction="none")
    tl.sum().backward()
    np.testing.assert_allclose(loss.numpy(), tl.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(X.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("shape, axis", [((0,), 0), ((2, 0), 1), ((2, 0), -1), ((0, 3), 1), ((0, 3), 0),
                                         ((2, 0, 3), 1)])
def test_softmax_family_over_empty_tensors_is_pytorchs(name, shape, axis):
    """An empty axis gives an empty result (softmax, log_softmax) or -inf (logsumexp), and an empty gradient."""
    x = cr.tensor(np.zeros(shape), requires_grad=True)
    tx = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    y, ty = getattr(cr, name)(x, axis), getattr(torch, name)(tx, axis)
    assert y.shape == tuple(ty.shape) and y.dtype == cr.float64
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    (y * 2.0).sum().backward()
    (ty * 2.0).sum().backward()
    assert x.grad.shape == shape
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
