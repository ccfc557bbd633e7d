"""User-defined ops (cr.Function): forward/backward, ctx.save_for_backward, apply, checked like built-ins."""
from __future__ import annotations

import weakref

import numpy as np
import pytest
import torch
from helpers import arrays_from_seed

import chainrule as cr


class Exp(cr.Function):
    @staticmethod
    def forward(ctx, x):
        y = cr.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class MulAdd(cr.Function):
    """a * b + c with a non-tensor scale: exercises several inputs, None gradients, needs_input_grad."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * b * ctx.scale if ctx.needs_input_grad[0] else None
        gb = g * a * ctx.scale if ctx.needs_input_grad[1] else None
        return ga, gb, None


def test_function_matches_builtin_and_gradcheck():
    a = arrays_from_seed(0, [(3, 2)])[0]
    x = cr.tensor(a, requires_grad=True)
    y = Exp.apply(x)
    assert y.grad_fn is not None and y.requires_grad
    np.testing.assert_allclose(y.numpy(), np.exp(a))
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * a))
    assert cr.gradcheck(lambda t: Exp.apply(t).sin(), (cr.tensor(a, requires_grad=True),))


def test_function_with_several_inputs_and_constants():
    a, b = arrays_from_seed(1, [(2, 3), (2, 3)])
    ca, cb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    MulAdd.apply(ca, cb, 2.5).sum().backward()
    np.testing.assert_allclose(ca.grad.numpy(), 2.5 * b)
    np.testing.assert_allclose(cb.grad.numpy(), 2.5 * a)
    assert cr.gradcheck(lambda p, q: MulAdd.apply(p, q, 0.5),
                        (cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)))
    const = cr.tensor(b)
    seen = []

    class Spy(MulAdd):
        @staticmethod
        def backward(ctx, g):
            seen.append(ctx.needs_input_grad)
            return MulAdd.backward(ctx, g)

    Spy.apply(ca, const, 1.0).sum().backward()
    assert seen == [(True, False, False)]


def test_function_second_derivative_with_create_graph_matches_torch():
    a, v = arrays_from_seed(2, [(4,), (4,)])

    class Cube(cr.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x * x

    x = cr.tensor(a, requires_grad=True)
    (g,) = cr.grad(Cube.apply(x).sum(), x, create_graph=True)
    (hv,) = cr.grad((g * cr.tensor(v)).sum(), x)
    tx = torch.tensor(a, requires_grad=True)
    (tg,) = torch.autograd.grad((tx ** 3).sum(), tx, create_graph=True)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(hv.numpy(), thv.numpy(), rtol=1e-12)


def test_function_retain_graph_and_freed_context():
    contexts = []

    class Recorded(Exp):
        @staticmethod
        def forward(ctx, x):
            contexts.append(weakref.ref(ctx))
            return Exp.forward(ctx, x)

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = Recorded.apply(x).sum()
    y.backward(retain_graph=True)
    assert contexts[0]() is not None
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-6)
    assert contexts[0]() is None  # the ctx and what forward saved in it go after the last backward
    with pytest.raises(cr.AutogradError, match="retain_graph"):
        y.backward()


def test_function_saved_output_is_freed_after_backward():
    x = cr.tensor(np.ones(1000, dtype=np.float32), requires_grad=True)
    y = Exp.apply(x)
    loss = y.sum()
    saved = weakref.ref(y.numpy())  # Exp saved the array its output wraps
    del y
    loss.backward()
    assert saved() is None


def test_function_under_no_grad_records_nothing():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.no_grad():
        y = Exp.apply(x)
    assert y.grad_fn is None and not y.requires_grad


def test_function_misuse_gives_clear_errors():
    class NotATensor(cr.Function):
        @staticmethod
        def forward(ctx, x):
            return 3.0

    class WrongShape(cr.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return cr.ones(5)

    class TooFew(cr.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(cr.AutogradError, match="NotATensor.forward must return"):
        NotATensor.apply(x)
    with pytest.raises(cr.AutogradError, match=r"WrongShape.backward .*shape \(5,\).*input 0.*\(2,\)"):
        WrongShape.apply(x).sum().backward()
    with pytest.raises(cr.AutogradError, match="TooFew.backward returned 1 gradients for 2 inputs"):
        TooFew.apply(x, x).sum().backward()
