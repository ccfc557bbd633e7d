"""A gradient gated by a mask is selected, never multiplied by the mask: an inf or NaN arriving at a unit the
gate closes gives 0 there (inf·0 would be NaN), as PyTorch's relu/threshold/clamp/where backward do.

Every piecewise op is checked against PyTorch with inf and NaN incoming gradients, on every path: the plain
op, its array rule (``fast=``), and the fused Linear+ReLU of ``nn.Sequential``.  Under ``create_graph`` the
gated gradient stays a function of the incoming one, so gradients of gradients flow (checked against
``torch.autograd.grad``).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.ops.arraymath import select_grad

X0 = np.array([-2.0, -0.5, 0.0, 0.5, 2.0, 7.0, -7.0, 3.0, -3.0])
G = np.array([np.inf, np.nan, -np.inf, np.inf, np.nan, -np.inf, np.inf, 1.0, np.nan])
OTHER = np.array([1.0, -1.0, 0.0, 0.5, 3.0, 1.0, -8.0, 3.0, -4.0])

OPS = {
    "relu": (lambda x: cr.relu(x), lambda x: torch.relu(x)),
    "F.relu": (lambda x: F.relu(x), lambda x: TF.relu(x)),
    "nn.ReLU": (lambda x: nn.ReLU()(x), lambda x: torch.nn.ReLU()(x)),
    "method": (lambda x: x.relu(), lambda x: x.relu()),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda x: TF.leaky_relu(x, 0.1)),
    "clip": (lambda x: cr.clip(x, -1.0, 1.0), lambda x: torch.clamp(x, -1.0, 1.0)),
    "clamp_min": (lambda x: cr.clamp_min(x, 0.1), lambda x: torch.clamp_min(x, 0.1)),
    "clamp_max": (lambda x: cr.clamp_max(x, 0.1), lambda x: torch.clamp_max(x, 0.1)),
    "maximum": (lambda x: cr.maximum(x, cr.tensor(OTHER).to(x.dtype)),
                lambda x: torch.maximum(x, torch.tensor(OTHER).to(x.dtype))),
    "minimum": (lambda x: cr.minimum(x, cr.tensor(OTHER).to(x.dtype)),
                lambda x: torch.minimum(x, torch.tensor(OTHER).to(x.dtype))),
    "where": (lambda x: cr.where(x > 0, x, x * 2), lambda x: torch.where(x > 0, x, x * 2)),
    "masked_fill": (lambda x: cr.masked_fill(x, cr.tensor(X0 > 0), 0.0),
                    lambda x: x.masked_fill(torch.tensor(X0 > 0), 0.0)),
    "max(dim)": (lambda x: cr.max(x.reshape(3, 3), 1)[0], lambda x: torch.max(x.reshape(3, 3), 1)[0]),
    "sort": (lambda x: cr.sort(x)[0], lambda x: torch.sort(x)[0]),
    "max_pool2d": (lambda x: F.max_pool2d(x.reshape(1, 1, 3, 3), 2, 1).reshape(-1),
                   lambda x: TF.max_pool2d(x.reshape(1, 1, 3, 3), 2, 1).reshape(-1)),
    "dropout(p=1)": (lambda x: F.dropout(x, 1.0), lambda x: TF.dropout(x, 1.0)),
}


def _same(a, b):
    """Equal values, NaN where the other has NaN."""
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.where(np.isnan(a), 0.0, a), np.where(np.isnan(b), 0.0, b))


def test_the_issue_case_relu_then_sqrt():
    x = cr.tensor([-1.0, 4.0], requires_grad=True)
    cr.relu(x).sqrt().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.25])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(OPS))
def test_inf_and_nan_gradients_are_gated_as_in_pytorch(name, dtype):
    f, tf = OPS[name]
    x = cr.tensor(X0.astype(dtype), requires_grad=True)
    tx = torch.tensor(X0.astype(dtype), requires_grad=True)
    y, ty = f(x), tf(tx)
    g = G[: y.numel()].reshape(y.shape).astype(dtype)
    y.backward(cr.tensor(g))
    ty.backward(torch.tensor(g))
    _same(x.grad.numpy(), tx.grad.numpy())


def test_amax_selects_where_pytorch_multiplies():
    """Decided: amax's gradient goes to the maxima only, so an inf/NaN arriving there stays there; PyTorch's
    amax backward multiplies by the mask and spreads NaN to every position of the slice."""
    x = cr.tensor([[1.0, 3.0, 2.0], [5.0, 4.0, 5.0]], requires_grad=True)
    cr.amax(x, 1).backward(cr.tensor([np.inf, np.nan]))
    _same(x.grad.numpy(), np.array([[0.0, np.inf, 0.0], [np.nan, 0.0, np.nan]], np.float32))


@pytest.mark.parametrize("fused", [True, False], ids=["Sequential-fused", "Linear-then-relu"])
def test_linear_relu_weight_gradient_stays_finite_with_a_sqrt_after(fused):
    """The issue's second case: through Sequential(Linear, ReLU) one dead unit under a sqrt made the whole
    weight gradient NaN (the fused op ran the multiplying rule)."""
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((4, 3)), rng.standard_normal(4)
    xin = rng.standard_normal((5, 3))
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU()).double()
    model[0].weight.data.copy_(cr.tensor(w))
    model[0].bias.data.copy_(cr.tensor(b))
    out = model(cr.tensor(xin)) if fused else F.relu(F.linear(cr.tensor(xin), model[0].weight, model[0].bias))
    if fused:
        assert out.grad_fn.op.name == "linear_relu"  # the fused path is the one under test
    out.sqrt().sum().backward()
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    TF.relu(TF.linear(torch.tensor(xin), tw, tb)).sqrt().sum().backward()
    assert (out.numpy() == 0).any() and np.isfinite(model[0].weight.grad.numpy()).all()
    np.testing.assert_allclose(model[0].weight.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(model[0].bias.grad.numpy(), tb.grad.numpy(), rtol=1e-12)


SECOND = {k: OPS[k] for k in ("relu", "leaky_relu", "clip", "maximum", "minimum", "where", "masked_fill",
                              "max(dim)", "max_pool2d")}


def _fused_linear_relu(x):
    model = nn.Sequential(nn.Linear(9, 9), nn.ReLU()).double()
    model[0].weight.data.copy_(cr.tensor(np.eye(9) - 0.3))
    model[0].bias.data.copy_(cr.full((9,), 0.1, dtype=cr.float64))
    y = model(x)
    assert y.grad_fn.op.name == "linear_relu"
    return y


SECOND["linear_relu"] = (_fused_linear_relu, lambda x: TF.relu(
    TF.linear(x, torch.tensor(np.eye(9) - 0.3), torch.full((9,), 0.1, dtype=torch.float64))))


@pytest.mark.parametrize("name", list(SECOND))
def test_gradient_of_the_gated_gradient_matches_torch(name):
    """d/dv and d/dx of <∂<f(x), v>/∂x, w>: the gated gradient is linear in v (so d/dv is the gate times w),
    and piecewise-constant in x."""
    f, tf = SECOND[name]
    x0 = X0 + 0.1
    x, tx = cr.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y, ty = f(x), tf(tx)
    v0 = np.linspace(-1.0, 1.0, y.numel()).reshape(y.shape)
    v, tv = cr.tensor(v0, requires_grad=True), torch.tensor(v0, requires_grad=True)
    (gx,) = cr.grad((y * v).sum(), x, create_graph=True)
    (tgx,) = torch.autograd.grad((ty * tv).sum(), tx, create_graph=True)
    np.testing.assert_allclose(gx.numpy(), tgx.detach().numpy(), rtol=1e-12)
    w = np.linspace(0.5, 2.0, x0.size)
    gv = cr.grad((gx * cr.tensor(w)).sum(), v)[0].numpy()
    tgv = torch.autograd.grad((tgx * torch.tensor(w)).sum(), tv)[0].numpy()
    np.testing.assert_allclose(gv, tgv, rtol=1e-12)
    assert np.abs(gv).sum() > 0  # the gradient really flows to the incoming gradient


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_select_grad_is_where_bit_for_bit(dtype):
    rng = np.random.default_rng(1)
    g = rng.standard_normal((7, 5)).astype(dtype)
    g[0, :] = [np.inf, -np.inf, np.nan, -0.0, 0.0]
    mask = rng.random((7, 5)) > 0.5
    mask[0, :] = [False, True, False, True, False]
    want = np.where(mask, g, dtype(0))
    got = select_grad(mask, g)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.view(f"u{g.itemsize}"), want.view(f"u{g.itemsize}"))  # +0 where closed
    got_t = select_grad(mask.T, g.T)  # a non-contiguous gradient
    np.testing.assert_array_equal(got_t.view(f"u{g.itemsize}"), want.T.view(f"u{g.itemsize}"))
    assert (g[0, 2] != g[0, 2]) and select_grad(mask, g)[0, 2] == 0  # the input is not changed
    assert select_grad(np.array(0.0) > 0, np.array(np.inf, dtype)) == 0  # 0-d (NumPy's comparison gives a scalar)


CONSTANT_UPSTREAM = {k: OPS[k] for k in ("relu", "leaky_relu", "clip", "maximum", "where", "max(dim)")}
CONSTANT_UPSTREAM["abs"] = (lambda x: cr.abs(x), lambda x: torch.abs(x))
CONSTANT_UPSTREAM["max_pool2d"] = OPS["max_pool2d"]


@pytest.mark.parametrize("name", list(CONSTANT_UPSTREAM))
def test_a_gradient_constant_in_x_is_in_the_graph_where_pytorch_keeps_it(name):
    """relu, leaky_relu, abs and max_pool2d: PyTorch records the gradient of f(x).sum() as a function of x
    (with derivative 0), so a penalty on it is zeros, not an error; clip, maximum, where do not record it."""
    f, tf = CONSTANT_UPSTREAM[name]
    x, tx = cr.tensor(X0 + 0.1, requires_grad=True), torch.tensor(X0 + 0.1, requires_grad=True)
    (g,) = cr.grad(f(x).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(tf(tx).sum(), tx, create_graph=True)
    assert g.requires_grad == tg.requires_grad
    np.testing.assert_array_equal(g.numpy(), tg.detach().numpy())
    if tg.requires_grad:
        (h,) = cr.grad((g * g).sum(), x)
        (th,) = torch.autograd.grad((tg * tg).sum(), tx)
        np.testing.assert_array_equal(h.numpy(), th.numpy(force=True))


@pytest.mark.parametrize("method, args, want", [("zero_", (), [0.0, 0.0, 0.0]), ("fill_", (2.0,), [2.0, 2.0, 2.0]),
                                                 ("copy_", (cr.tensor([1.0, 2.0, 3.0]),), [1.0, 2.0, 3.0])])
def test_overwriting_a_tensor_that_holds_inf_or_nan(method, args, want):
    """zero_/fill_/copy_ were t·0 + value, so an old inf or NaN survived as NaN (a diverged model's weights
    reloaded with copy_ stayed NaN); they select now, and the old value's gradient is exactly 0."""
    x = cr.tensor([np.inf, np.nan, 1.0])
    getattr(x, method)(*args)
    np.testing.assert_array_equal(x.numpy(), want)
    w = cr.tensor([np.inf, 1.0, 2.0], requires_grad=True)
    y = w * 1.0
    getattr(y, method)(*args)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0, 0.0])
