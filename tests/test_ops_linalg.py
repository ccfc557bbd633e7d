"""matmul (1-D, 2-D, batched with broadcasting; ``@`` and ``cr.matmul``) and the fused ``linear``."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from helpers import arrays_from_seed, check_op, seeds
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr


@st.composite
def matmul_shapes(draw):
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3)).input_shapes
    a_kind, b_kind = draw(st.sampled_from(["vec", "mat"])), draw(st.sampled_from(["vec", "mat"]))
    a = (k,) if a_kind == "vec" else batch[0] + (n, k)
    b = (k,) if b_kind == "vec" else batch[1] + (k, m)
    return a, b


@given(shp=matmul_shapes(), seed=seeds)
def test_matmul_matches_torch(shp, seed):
    arrays = arrays_from_seed(seed, shp)
    check_op(lambda a, b: a @ b, lambda a, b: a @ b, arrays)
    check_op(cr.matmul, torch.matmul, arrays, gradcheck=False)
    check_op(lambda a, b: a.matmul(b), lambda a, b: a.matmul(b), arrays, gradcheck=False, grad_of=[1])


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((4, 2, 3), (3,)),
                                    ((3,), (5, 3, 2)), ((2, 1, 2, 3), (4, 3, 2)), ((1, 3), (3, 1))])
def test_matmul_vector_and_batch_rules(shapes):
    check_op(lambda a, b: a @ b, lambda a, b: a @ b, arrays_from_seed(4, shapes))


def test_matmul_second_derivatives_match_torch():
    a, b, v = arrays_from_seed(5, [(2, 3, 4), (4, 2), (2, 3, 4)])
    ca, cb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ga, gb = cr.grad(((ca @ cb).tanh() @ cb.T).sum(), (ca, cb), create_graph=True)
    tga, tgb = torch.autograd.grad(((ta @ tb).tanh() @ tb.T).sum(), (ta, tb), create_graph=True)
    hv = cr.grad((ga * cr.tensor(v)).sum() + (gb ** 2).sum(), (ca, cb))
    thv = torch.autograd.grad((tga * torch.tensor(v)).sum() + (tgb ** 2).sum(), (ta, tb))
    for h, th in zip(hv, thv):
        np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10, atol=1e-12)


@given(batch=st.sampled_from([(), (3,), (2, 3)]), bias=st.booleans(), seed=seeds)
def test_linear_matches_torch(batch, bias, seed):
    arrays = arrays_from_seed(seed, [batch + (4,), (5, 4), (5,)][: 3 if bias else 2])
    check_op(cr.linear, TF.linear, arrays)


def test_matmul_shape_errors_name_op_and_both_shapes():
    with pytest.raises(cr.ShapeError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        cr.ones(2, 3) @ cr.ones(4, 5)
    with pytest.raises(cr.ShapeError, match=r"matmul.*\(3,\).*\(4,\)"):
        cr.matmul(cr.ones(3), cr.ones(4))
    with pytest.raises(cr.ShapeError, match=r"matmul.*\(2, 2, 3\).*\(3, 3, 1\)"):
        cr.ones(2, 2, 3) @ cr.ones(3, 3, 1)
    with pytest.raises(cr.ShapeError, match="0-d"):
        cr.tensor(2.0) @ cr.ones(2)
    with pytest.raises(cr.ShapeError, match=r"linear.*\(2, 3\).*\(4, 5\)"):
        cr.linear(cr.ones(2, 3), cr.ones(4, 5))
    with pytest.raises(cr.DTypeError, match="float32.*float64|float64.*float32"):
        cr.ones(2, 3) @ cr.ones(3, 2, dtype=cr.float64)



@pytest.mark.parametrize("act", [None, "relu", "tanh"])
def test_large_products_written_column_major_give_the_same_values_and_gradients(act, monkeypatch):
    import importlib

    linalg = importlib.import_module("chainrule.ops.linalg")
    monkeypatch.setattr(importlib.import_module("chainrule.layout"), "COLUMN_MAJOR_FROM", 12)  # (4, 3) and up
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((3, 5)), rng.standard_normal(3)
    g = rng.standard_normal((4, 3))
    cx, cw, cb = (cr.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    cy = linalg.linear(cx, cw, cb) if act is None else linalg.linear_act(cx, cw, cb, act)
    ty = TF.linear(tx, tw, tb)
    ty = ty if act is None else getattr(torch, act)(ty)
    assert cy.numpy().flags.f_contiguous and not cy.numpy().flags.c_contiguous
    np.testing.assert_allclose(cy.numpy(), ty.detach().numpy(), rtol=1e-12)
    (cy * cr.tensor(g)).sum().backward()
    (ty * torch.from_numpy(g)).sum().backward()
    assert cx.grad.numpy().flags.f_contiguous  # the input's gradient, g @ W, is large too
    for c, t in ((cx, tx), (cw, tw), (cb, tb)):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert cr.gradcheck(lambda x, w, b: linalg.linear(x, w, b), (cx, cw, cb))


def test_small_products_stay_row_major():
    x = cr.tensor(np.ones((4, 5), np.float32))
    assert cr.nn.functional.linear(x, cr.tensor(np.ones((3, 5), np.float32))).numpy().flags.c_contiguous
