"""Reductions: sum mean max min var std logsumexp (axis int/tuple/negative/None, dim=, keepdims), argmax/argmin."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import arrays_from_seed, axis_args, check_op, seeds, shapes, torch_dims
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr

REDUCTIONS = {
    "sum": (cr.sum, torch.sum),
    "mean": (cr.mean, torch.mean),
    "amax": (cr.amax, torch.amax),
    "amin": (cr.amin, torch.amin),
    "logsumexp": (cr.logsumexp, torch.logsumexp),
}


@st.composite
def reduction_case(draw):
    shape = draw(shapes(max_side=3))
    return shape, draw(axis_args(len(shape))), draw(st.booleans()), draw(st.booleans()), draw(seeds)


def _call(fn, x, axis, keepdims, use_dim):
    if use_dim:
        return fn(x, dim=axis, keepdims=keepdims)
    return fn(x, axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("name", list(REDUCTIONS))
@given(case=reduction_case())
def test_reduction_matches_torch(name, case):
    shape, axis, keepdims, use_dim, seed = case
    f, tf = REDUCTIONS[name]
    check_op(
        lambda x: _call(f, x, axis, keepdims, use_dim),
        lambda x: tf(x, dim=torch_dims(axis, len(shape)), keepdim=keepdims),
        arrays_from_seed(seed, [shape]),
    )


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "logsumexp", "var", "std"])
def test_reduction_methods_and_defaults(name):
    a = arrays_from_seed(5, [(3, 4)])[0]
    tname = {"max": "amax", "min": "amin"}.get(name, name)
    if name == "logsumexp":  # torch needs dim; ours reduces everything by default (like sum)
        check_op(lambda x: x.logsumexp(), lambda x: x.logsumexp(dim=(0, 1)), [a])
    else:
        check_op(lambda x: getattr(x, name)(), lambda x: getattr(x, tname)(), [a])
    check_op(lambda x: getattr(x, name)(1), lambda x: getattr(x, tname)(1), [a])
    check_op(lambda x: getattr(x, name)(dim=-2, keepdims=True), lambda x: getattr(x, tname)(dim=-2, keepdim=True), [a])
    check_op(lambda x: getattr(x, name)(1, keepdim=True), lambda x: getattr(x, tname)(1, keepdim=True), [a],
             gradcheck=False)  # PyTorch's spelling works too


@st.composite
def var_case(draw):
    shape = draw(shapes(min_dims=1, max_side=4))
    axis = draw(axis_args(len(shape)))
    n = int(np.prod([shape[a] for a in (np.atleast_1d(axis) if axis is not None else range(len(shape)))]))
    correction = draw(st.sampled_from([0, 1, 2]))
    if correction >= n:
        correction = 0
    return shape, axis, draw(st.booleans()), correction, draw(seeds)


@pytest.mark.parametrize("name", ["var", "std"])
@given(case=var_case())
def test_var_std_with_correction_match_torch(name, case):
    shape, axis, keepdims, correction, seed = case
    f, tf = getattr(cr, name), getattr(torch, name)
    check_op(
        lambda x: f(x, axis=axis, keepdims=keepdims, correction=correction),
        lambda x: tf(x, dim=torch_dims(axis, len(shape)), keepdim=keepdims, correction=correction),
        arrays_from_seed(seed, [shape]),
        scale=10.0,
    )


def test_var_default_correction_is_one_and_unbiased_alias():
    x = cr.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(np.var([1, 2, 3, 4], ddof=1))
    assert cr.var(x, correction=0).item() == pytest.approx(np.var([1, 2, 3, 4]))
    assert cr.std(x, unbiased=False).item() == pytest.approx(np.std([1, 2, 3, 4]))
    assert cr.var(x).dtype == np.float32


def test_max_min_with_a_dim_return_values_and_indices_like_torch():
    a = np.array([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]])
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for name in ("max", "min"):
        for kw in ({"dim": 1}, {"dim": 0, "keepdim": True}, {"dim": -1}):
            c, tt = getattr(x, name)(**kw), getattr(t, name)(**kw)
            np.testing.assert_array_equal(c.values.numpy(), tt.values.detach().numpy())
            np.testing.assert_array_equal(c.indices.numpy(), tt.indices.numpy())
            assert c.indices.dtype == np.int64
            values, indices = c  # unpacks as a pair whatever the batch size
            (values * cr.tensor(np.arange(values.numel()).reshape(values.shape) + 1.0)).sum().backward()
            (tt.values * torch.arange(tt.values.numel()).reshape(tt.values.shape).double().add(1)).sum().backward()
            np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())  # to the selected index only
            x.grad, t.grad = None, None
    _, pred = cr.max(cr.tensor([[0.1, 0.9], [0.8, 0.2]]), 1)  # the idiom that unpacked rows before
    np.testing.assert_array_equal(pred.numpy(), [1, 0])
    assert isinstance(x.max(), cr.Tensor) and x.max().item() == 7.0
    np.testing.assert_array_equal(cr.max(x, cr.tensor(6.0, dtype=cr.float64)).numpy(), np.maximum(a, 6.0))
    np.testing.assert_array_equal(x.amax(1).numpy(), [5.0, 7.0])  # amax: values only
    with pytest.raises(cr.ShapeError, match="amax"):
        x.max(dim=(0, 1))


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_tied_maxima_share_gradient_equally(axis):
    a = np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    for f, tf in ((cr.amax, torch.amax), (cr.amin, torch.amin)):
        check_op(lambda x, f=f: f(x, axis=axis), lambda x, tf=tf: tf(x, dim=torch_dims(axis, 2)), [a],
                 gradcheck=False)
    x = cr.tensor(a, requires_grad=True)
    cr.max(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])
    x.grad = None
    cr.amax(x, axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 0, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def test_tied_max_second_derivative_float32():
    x = cr.tensor([[1.0, 1.0], [0.0, 2.0]], requires_grad=True)
    (g,) = cr.grad((cr.amax(x, axis=1) ** 2).sum(), x, create_graph=True)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g.numpy(), [[1.0, 1.0], [0.0, 4.0]])


@given(shape=shapes(max_side=4), seed=seeds, data=st.data())
def test_argmax_argmin_match_torch(shape, seed, data):
    a = arrays_from_seed(seed, [shape])[0].astype(np.float32)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)) if shape else st.none())
    keepdims = data.draw(st.booleans()) if axis is not None else False
    for f, tf in ((cr.argmax, torch.argmax), (cr.argmin, torch.argmin)):
        got = f(cr.tensor(a), axis=axis, keepdims=keepdims)
        want = tf(torch.tensor(a), dim=axis, keepdim=keepdims)
        assert got.dtype == np.int64 and not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    x = cr.tensor(a)
    if axis is not None:
        np.testing.assert_array_equal(x.argmax(dim=axis).numpy(), np.argmax(a, axis=axis))
        assert x.argmin(axis, keepdim=True).shape == tuple(torch.argmin(torch.tensor(a), axis, keepdim=True).shape)


def test_reductions_keep_float32():
    x = cr.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    for y in (x.sum(), x.mean(), x.max(), x.var(), x.std(), x.logsumexp(), x.mean(axis=(0, 1))):
        assert y.dtype == np.float32
        y.backward()
        assert x.grad.dtype == np.float32


def test_logsumexp_is_stable_and_handles_minus_infinity():
    x = cr.tensor([1000.0, 1000.0], requires_grad=True)
    y = cr.logsumexp(x)
    assert y.item() == pytest.approx(1000.0 + np.log(2.0))
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5], rtol=1e-4)  # float32 rounding of y, as torch
    z = cr.tensor([-np.inf, 0.0], requires_grad=True)
    cr.logsumexp(z).backward()
    np.testing.assert_array_equal(z.grad.numpy(), [0.0, 1.0])


def test_sum_of_ints_and_bools():
    assert cr.tensor([1, 2, 3]).sum().item() == 6
    assert cr.tensor([True, False, True]).sum().item() == 2


def test_bad_axes_raise_clear_errors():
    x = cr.ones(2, 3)
    with pytest.raises(cr.ShapeError, match=r"sum: axis 2 is out of range .* 2 dimensions"):
        x.sum(axis=2)
    with pytest.raises(cr.ShapeError, match="repeats"):
        x.mean(axis=(1, -1))
    with pytest.raises(TypeError, match="axis= or dim="):
        x.sum(axis=0, dim=0)
    with pytest.raises(ValueError, match="empty"):
        cr.zeros(0).max()
    with pytest.raises(cr.ShapeError, match="argmax"):
        x.argmax(axis=-3)


def test_hessian_vector_product_through_reductions_matches_torch():
    a = arrays_from_seed(11, [(3, 4)])[0]
    v = arrays_from_seed(12, [(3, 4)])[0]

    def f(m, x):
        lse = m.logsumexp(x, dim=1) if m is torch else m.logsumexp(x, axis=1)
        return (lse * x.var(dim=1) + x.mean(dim=0).sum() * x.std()).sum()

    cx, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (g,) = cr.grad(f(cr, cx), cx, create_graph=True)
    (tg,) = torch.autograd.grad(f(torch, tx), tx, create_graph=True)
    np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-10, atol=1e-12)
    (hv,) = cr.grad((g * cr.tensor(v)).sum(), cx)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(hv.numpy(), thv.numpy(), rtol=1e-9, atol=1e-10)
