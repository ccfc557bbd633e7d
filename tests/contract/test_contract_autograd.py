# ruff: noqa: B023  (the lambdas are called at once, inside the loop that binds their variables)
"""DESIGN.md "Autograd": cr.grad, no_grad/enable_grad/is_grad_enabled, Function, gradcheck,
detect_anomaly; engine semantics as in PyTorch."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from contract_util import pair, randn

import chainrule as cr


def test_grad_signature():
    params = inspect.signature(cr.grad).parameters
    assert list(params)[:6] == ["outputs", "inputs", "grad_outputs", "retain_graph", "create_graph",
                                "allow_unused"]
    assert params["grad_outputs"].default is None and params["retain_graph"].default is None
    assert params["create_graph"].default is False and params["allow_unused"].default is False


def test_grad_returns_tuple_and_does_not_touch_dot_grad():
    a = randn(3, seed=50)
    x, tx = pair(a)
    y, ty = (x * x).sum(), (tx * tx).sum()
    g = cr.grad(y, x)
    tg = torch.autograd.grad(ty, tx)
    assert isinstance(g, tuple) and len(g) == 1 and isinstance(g[0], cr.Tensor)
    np.testing.assert_allclose(g[0].numpy(), tg[0].numpy())
    assert x.grad is None


def test_grad_multiple_outputs_inputs_and_grad_outputs():
    a, b = randn(2, 3, seed=51), randn(3, seed=52)
    (x, tx), (w, tw) = pair(a), pair(b)
    go = [randn(2, 3, seed=53), randn(3, seed=54)]
    outs = [x * w, (x ** 2).sum(0)]
    touts = [tx * tw, (tx ** 2).sum(0)]
    g = cr.grad(outs, [x, w], grad_outputs=[cr.tensor(v) for v in go])
    tg = torch.autograd.grad(touts, [tx, tw], grad_outputs=[torch.tensor(v) for v in go])
    assert len(g) == 2
    for u, v in zip(g, tg):
        np.testing.assert_allclose(u.numpy(), v.numpy())


def test_grad_allow_unused_and_retain_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    z = cr.tensor([3.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(cr.ChainruleError):
        cr.grad(y, [x, z], retain_graph=True)  # z unused, allow_unused=False
    gx, gz = cr.grad(y, [x, z], allow_unused=True, retain_graph=True)
    assert gz is None and np.allclose(gx.numpy(), 2)
    cr.grad(y, x)  # default: retain_graph follows create_graph (False): buffers freed
    y2 = (x * x).sum()
    cr.grad(y2, x)
    with pytest.raises(cr.ChainruleError, match=r"(?i)free|retain_graph|second"):
        cr.grad(y2, x)


def test_grad_create_graph_hessian_vector_vs_torch():
    a, v = randn(4, seed=55), randn(4, seed=56)
    x, tx = pair(a)
    f = lambda t, m: (m.tanh(t) * t.sum()).sum() + (t ** 3).sum()  # noqa: E731
    (g,) = cr.grad(f(x, cr), x, create_graph=True)
    (tg,) = torch.autograd.grad(f(tx, torch), tx, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    (h,) = cr.grad((g * cr.tensor(v)).sum(), x)
    (th,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10)
    (g2,) = cr.grad(f(x, cr), x)
    assert not g2.requires_grad  # first-order grad is not recorded


def test_no_grad_enable_grad_is_grad_enabled():
    x = cr.tensor([1.0], requires_grad=True)
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        y = x * 2
        with cr.enable_grad():
            assert cr.is_grad_enabled()
            z = x * 2
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert not y.requires_grad and z.requires_grad

    @cr.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and cr.is_grad_enabled()
    with pytest.raises(RuntimeError):
        with cr.no_grad():
            raise RuntimeError("boom")
    assert cr.is_grad_enabled()  # restored after an exception


def test_function_subclass_like_torch():
    class Cube(cr.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x ** 3 * k

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x ** 2 * ctx.k, None

    x = cr.tensor(randn(2, 3, seed=57), requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn is not None and y.requires_grad
    np.testing.assert_allclose(y.numpy(), 2 * x.numpy() ** 3, rtol=1e-6)
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * y.numpy() * 6 * x.numpy() ** 2, rtol=1e-5)
    xd = cr.tensor(randn(3, seed=58), requires_grad=True)
    assert cr.gradcheck(lambda t: Cube.apply(t, 0.5), (xd,))


def test_function_two_inputs_two_grads():
    class MulAdd(cr.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b + a

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * (b + 1), g * a

    a, b = randn(3, seed=59), randn(3, seed=60)
    (x, tx), (w, tw) = pair(a), pair(b)
    MulAdd.apply(x, w).sum().backward()
    (tx * tw + tx).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy())


def test_gradcheck_signature_and_report():
    params = inspect.signature(cr.gradcheck).parameters
    assert list(params)[:2] == ["fn", "inputs"]
    assert params["eps"].default == 1e-6 and params["atol"].default == 1e-5 and params["rtol"].default == 1e-3

    class Wrong(cr.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    a = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    b = cr.tensor([0.5], dtype=cr.float64, requires_grad=True)
    assert cr.gradcheck(lambda u, v: u * v, (a, b)) is True
    with pytest.raises(cr.GradcheckError) as info:
        cr.gradcheck(lambda u, v: Wrong.apply(u) + v, (a, b))
    msg = str(info.value)
    assert "input" in msg and "analytic" in msg and "numeric" in msg
    assert "3" in msg and "2" in msg  # analytic 3, numeric 2
    with pytest.raises(cr.GradcheckError, match=r"input\W*1"):  # names the second input
        cr.gradcheck(lambda u, v: u + Wrong.apply(v), (a, b))
    assert issubclass(cr.GradcheckError, Exception)


def test_detect_anomaly_forward_and_backward():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(cr.ChainruleError, match=r"(?i)log") as info:
        with cr.detect_anomaly():
            cr.log(x * 0 - 1)  # NaN created by log in forward
    assert "test_contract_autograd.py" in str(info.value)  # the user's line
    with pytest.raises(cr.ChainruleError, match=r"(?i)sqrt|div|pow") as info:
        with cr.detect_anomaly():
            y = cr.sqrt(x).sum()  # finite forward, inf gradient at 0
            y.backward()
    assert "test_contract_autograd.py" in str(info.value)  # the line that created the sqrt
    with cr.detect_anomaly():  # no NaN: no error
        (x * 2).sum().backward()


def test_engine_reuse_and_deep_chain():
    a = randn(3, seed=61)
    x, tx = pair(a)
    y, ty = x * x, tx * tx
    z, tz = (y + y * x + y.exp()).sum(), (ty + ty * tx + ty.exp()).sum()
    z.backward()
    tz.backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    v = cr.tensor(1.0, requires_grad=True)
    h = v
    for _ in range(20000):  # far past any recursion limit
        h = h * 1.0
    h.backward()
    assert v.grad.item() == 1.0


def test_leaf_hook_modifies_grad_like_torch():
    a = randn(3, seed=62)
    x, tx = pair(a)
    x.register_hook(lambda g: g * 2)
    tx.register_hook(lambda g: g * 2)
    (x * 3).sum().backward()
    (tx * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_engine_semantics_like_torch():
    for m, grad in ((cr, cr.grad), (torch, torch.autograd.grad)):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        (y * y).sum().backward(retain_graph=True)
        (y * 3).sum().backward()
        assert y.grad.tolist() == [7.0, 11.0] and x.grad.tolist() == [14.0, 22.0]  # retained grads accumulate
        z = x * x
        assert grad((z * 3).sum(), z)[0].tolist() == [3.0, 3.0]  # gradient with respect to an intermediate
        outs = [(x * x).sum(), (x * 3).sum()]
        assert grad(outs, x, grad_outputs=[None, None])[0].tolist() == [5.0, 7.0]
        with m.no_grad():
            w = m.tensor([1.0], requires_grad=True)  # created under no_grad: still a leaf that requires grad
        assert w.requires_grad and w.is_leaf and (w * 2).requires_grad
        a = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        (a[0] * a[:, 1]).sum().backward()  # overlapping views of one leaf
        assert a.grad.tolist() == [[2.0, 5.0], [0.0, 2.0]]


def test_errors_name_the_problem():
    with pytest.raises(cr.ChainruleError, match=r"(?i)float32.*float64|float64.*float32"):
        cr.tensor([1.0]) + cr.tensor(np.array([1.0]))  # would silently compute in float64
    with pytest.raises(cr.ChainruleError, match=r"\(2, 3\).*\(2, 3\)|matmul"):
        cr.matmul(cr.zeros(2, 3), cr.zeros(2, 3))
    with pytest.raises(cr.ChainruleError, match=r"(?i)scalar"):
        cr.zeros(2, requires_grad=True).backward()
    with pytest.raises(cr.ChainruleError, match=r"(?i)int64|float"):
        cr.tensor([1, 2]).requires_grad_()
    with pytest.raises(cr.ChainruleError, match=r"\(2, 3\)"):
        cr.zeros(2, 3)[:, 3]


def test_function_backward_is_differentiable_like_torch():
    def make(lib):
        class Cube(lib.Function if lib is cr else torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x ** 2

        return Cube

    a = randn(4, seed=63)
    x, tx = pair(a)
    (g,) = cr.grad(make(cr).apply(x).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(make(torch).apply(tx).sum(), tx, create_graph=True)
    (h,) = cr.grad((g * g).sum(), x)
    (th,) = torch.autograd.grad((tg * tg).sum(), tx)
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10)
