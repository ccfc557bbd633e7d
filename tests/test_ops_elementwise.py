"""Elementwise ops: values and gradients equal PyTorch's and central differences, with broadcasting."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import arrays_from_seed, broadcastable, check_op, seeds, shapes
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, "normal"),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, "normal"),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, "normal"),
    "div": (lambda a, b: a / b, lambda a, b: a / b, "away"),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, "positive"),
    "cr.pow": (lambda a, b: cr.pow(a, b), lambda a, b: torch.pow(a, b), "positive"),
    "maximum": (cr.maximum, torch.maximum, "normal"),
    "minimum": (cr.minimum, torch.minimum, "normal"),
    "add-method": (lambda a, b: a.add(b), lambda a, b: a.add(b), "normal"),
    "matching functions": (lambda a, b: cr.div(cr.mul(a, b), cr.sub(cr.add(a, b), -5.0)),
                           lambda a, b: a * b / (a + b + 5.0), "positive"),
}

UNARY = {
    "neg": (lambda x: -x, lambda x: -x, "normal"),
    "exp": (cr.exp, torch.exp, "normal"),
    "log": (cr.log, torch.log, "positive"),
    "sqrt": (cr.sqrt, torch.sqrt, "positive"),
    "abs": (cr.abs, torch.abs, "away"),
    "sin": (cr.sin, torch.sin, "normal"),
    "cos": (cr.cos, torch.cos, "normal"),
    "tanh": (cr.tanh, torch.tanh, "normal"),
    "sigmoid": (cr.sigmoid, torch.sigmoid, "normal"),
    "relu": (cr.relu, torch.relu, "away"),
    "abs-operator": (lambda x: abs(x), lambda x: abs(x), "away"),
    "exp-method": (lambda x: x.exp().log().sin(), lambda x: x.exp().log().sin(), "normal"),
    "square": (lambda x: x ** 2, lambda x: x ** 2, "normal"),
    "cube": (lambda x: x ** 3, lambda x: x ** 3, "normal"),
    "rsqrt": (lambda x: x ** -0.5, lambda x: x ** -0.5, "positive"),
    "x**0": (lambda x: x ** 0 * x, lambda x: x ** 0 * x, "normal"),
    "2**x": (lambda x: 2 ** x, lambda x: 2 ** x, "normal"),
    "scalar arithmetic": (lambda x: (3.0 - x) * 2 / (x * x + 1.0) + 0.5,
                          lambda x: (3.0 - x) * 2 / (x * x + 1.0) + 0.5, "normal"),
    "rtruediv": (lambda x: 1.5 / x, lambda x: 1.5 / x, "away"),
    "clip both": (lambda x: cr.clip(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7), "normal"),
    "clip min": (lambda x: cr.clip(x, min=0.1), lambda x: torch.clamp(x, min=0.1), "normal"),
    "clamp max": (lambda x: x.clamp(max=-0.1), lambda x: x.clamp(max=-0.1), "normal"),
    "gelu": (cr.gelu, torch.nn.functional.gelu, "normal"),
    "gelu tanh": (lambda x: cr.gelu(x, approximate="tanh"),
                  lambda x: torch.nn.functional.gelu(x, approximate="tanh"), "normal"),
}


@pytest.mark.parametrize("name", list(BINARY))
@given(shp=broadcastable(2), seed=seeds)
def test_binary_broadcasting_matches_torch(name, shp, seed):
    f, tf, kind = BINARY[name]
    arrays = arrays_from_seed(seed, shp, kind)
    if name in ("pow", "cr.pow"):
        arrays[1] = arrays[1] - 1.5  # exponents of both signs
    check_op(f, tf, arrays)


@pytest.mark.parametrize("name", list(UNARY))
@given(shape=shapes(max_side=3), seed=seeds)
def test_unary_matches_torch(name, shape, seed):
    f, tf, kind = UNARY[name]
    # erf is approximated to ~1e-7, so exact-gelu values match torch to that, not to 1e-10
    scale = 1e3 if name == "gelu" else 1.0
    check_op(f, tf, arrays_from_seed(seed, [shape], kind), scale=scale)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_python_number_operand(op, side):
    a = arrays_from_seed(3, [(2, 3)], "positive")[0]
    fn = {
        "+": lambda u, v: u + v, "-": lambda u, v: u - v, "*": lambda u, v: u * v,
        "/": lambda u, v: u / v, "**": lambda u, v: u ** v,
    }[op]
    if side == "left":
        check_op(lambda x: fn(1.7, x), lambda x: fn(1.7, x), [a])
    else:
        check_op(lambda x: fn(x, 1.7), lambda x: fn(x, 1.7), [a])


@given(shp=broadcastable(3), seed=seeds)
def test_where_matches_torch(shp, seed):
    cs, as_, bs = shp
    cond = np.random.default_rng(seed).random(cs) > 0.5
    check_op(
        lambda a, b: cr.where(cr.tensor(cond), a, b),
        lambda a, b: torch.where(torch.tensor(cond), a, b),
        arrays_from_seed(seed, [as_, bs]),
    )


def test_where_with_scalar_branches_keeps_dtype():
    x = cr.tensor([-1.0, 2.0], requires_grad=True)
    y = cr.where(x > 0, x, 0.0)
    assert y.dtype == np.float32
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 3.0])
    y2 = cr.where(x > 0, 1.0, x)
    assert y2.dtype == np.float32


@pytest.mark.parametrize("bad", [np.inf, np.nan, -np.inf])
def test_where_untaken_branch_gets_exact_zeros(bad):
    """The classic NaN leak: sqrt(x) for x<0 is never taken but its gradient is NaN/inf."""
    x = cr.tensor([-1.0, 0.0, 4.0], requires_grad=True)
    y = cr.where(x > 0, cr.sqrt(cr.where(x > 0, x, 1.0)), cr.zeros(3))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.25])
    # incoming gradient inf/NaN only where the other branch was chosen
    a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = cr.tensor([10.0, 20.0, 30.0], requires_grad=True)
    cond = cr.tensor([True, False, True])
    out = cr.where(cond, a, b)
    out.backward(cr.tensor([1.0, bad, 2.0]))
    assert a.grad.numpy()[1] == 0.0 and not np.signbit(a.grad.numpy()[1])
    np.testing.assert_array_equal(a.grad.numpy()[[0, 2]], [1.0, 2.0])
    np.testing.assert_array_equal(b.grad.numpy()[[0, 2]], [0.0, 0.0])
    # the other branch itself is inf/NaN (values only flow where they are taken)
    c = cr.tensor([1.0, 2.0], requires_grad=True)
    d = cr.tensor([bad, 5.0], requires_grad=True)
    e = cr.where(cr.tensor([True, False]), c * 2, d)
    e.sum().backward()
    np.testing.assert_array_equal(c.grad.numpy(), [2.0, 0.0])
    np.testing.assert_array_equal(d.grad.numpy(), [0.0, 1.0])


def test_maximum_minimum_ties_split_gradient_like_torch():
    a = np.array([1.0, 2.0, 3.0, 2.0])
    b = np.array([1.0, 5.0, 0.0, 2.0])
    for f, tf in ((cr.maximum, torch.maximum), (cr.minimum, torch.minimum)):
        check_op(f, tf, [a, b], gradcheck=False)
    x, y = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    cr.maximum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.0, 1.0, 0.5])
    np.testing.assert_array_equal(y.grad.numpy(), [0.5, 1.0, 0.0, 0.5])


def test_kinks_match_torch_conventions():
    """relu'(0) = 0, |x|'(0) = 0, clamp passes the gradient at its bounds (all as PyTorch)."""
    a = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    check_op(cr.relu, torch.relu, [a], gradcheck=False)
    check_op(cr.abs, torch.abs, [a], gradcheck=False)
    check_op(lambda x: cr.clip(x, 0.5, 1.0), lambda x: torch.clamp(x, 0.5, 1.0), [a], gradcheck=False)
    check_op(lambda x: x ** 2, lambda x: x ** 2, [a], gradcheck=False)
    check_op(lambda x: x ** 0.5, lambda x: x ** 0.5, [np.array([0.25, 1.0, 4.0])])


def test_pow_with_zero_base_and_tensor_exponent_like_torch():
    base = np.array([0.0, 0.0, 2.0, 3.0])
    expo = np.array([2.0, 0.5, 3.0, 0.0])
    check_op(lambda a, b: a ** b, lambda a, b: a ** b, [base, expo], gradcheck=False)
    check_op(lambda b: 0.0 ** b, lambda b: 0.0 ** b, [np.array([1.0, 2.0])], gradcheck=False)


def test_sigmoid_and_exp_are_stable_at_extremes():
    x = cr.tensor([-1000.0, -80.0, 0.0, 80.0, 1000.0], requires_grad=True)
    y = cr.sigmoid(x)
    t = torch.sigmoid(torch.tensor([-1000.0, -80.0, 0.0, 80.0, 1000.0]))
    np.testing.assert_allclose(y.numpy(), t.numpy(), rtol=1e-6, atol=0)
    y.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))


def test_clip_accepts_numpy_and_tensor_bounds_without_upcast():
    x = cr.tensor([-2.0, 0.0, 2.0], requires_grad=True)
    y = cr.clip(x, np.float64(-1.0), cr.tensor(1.0))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), [-1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="clip"):
        cr.clip(x)


@pytest.mark.parametrize("scalar", [2.0, np.float64(2.0), np.float32(2.0), 2, np.int64(2)])
def test_scalars_never_upcast_float32(scalar):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    outs = [x + scalar, scalar + x, x - scalar, scalar - x, x * scalar, scalar * x, x / scalar,
            scalar / x, x ** scalar, scalar ** x, cr.maximum(x, scalar), cr.minimum(scalar, x),
            cr.where(x > 1, x, scalar)]
    for y in outs:
        assert y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32


def test_integer_inputs_become_float32_not_float64():
    i = cr.tensor([1, 2, 3])
    assert i.dtype == np.int64
    assert (i * 0.5).dtype == np.float32
    assert (0.5 * i).dtype == np.float32
    for f in (cr.exp, cr.log, cr.sqrt, cr.sin, cr.cos, cr.tanh, cr.sigmoid):
        assert f(i).dtype == np.float32, f
    assert (i + cr.tensor([1.0, 1.0, 1.0])).dtype == np.float32
    assert (i + 1).dtype == np.int64


def test_float16_stays_float16():
    h = cr.tensor(np.array([1.0, 2.0], dtype=np.float16))
    assert (h * 2.0).dtype == np.float16
    assert cr.exp(h).dtype == np.float16


def test_comparisons_give_bool_tensors_without_gradient():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for c in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2, x > cr.tensor([0.0, 5.0, 3.0])):
        assert c.dtype == np.bool_ and not c.requires_grad and c.grad_fn is None
    np.testing.assert_array_equal((x >= 2).numpy(), [False, True, True])
    np.testing.assert_array_equal(cr.sign(cr.tensor([-2.0, 0.0, 3.0])).numpy(), [-1.0, 0.0, 1.0])


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        cr.gelu(cr.tensor([1.0]), approximate="erf")


@given(seed=seeds, shp=broadcastable(2, max_dims=2))
def test_second_derivatives_of_binary_ops_match_torch(seed, shp):
    """create_graph=True: the gradient of (a*b/(a+c) - a**b) is itself differentiable."""
    a, b = arrays_from_seed(seed, shp, "positive")
    ca, cb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)

    def f(m, x, y):
        return (x * y / (x + 1.0) - x ** y + m.maximum(x, y * 1.1) - m.minimum(x, y)).sum()

    ga, gb = cr.grad(f(cr, ca, cb), (ca, cb), create_graph=True)
    tga, tgb = torch.autograd.grad(f(torch, ta, tb), (ta, tb), create_graph=True)
    (ga * ga).sum().add((gb ** 3).sum()).backward()
    ((tga * tga).sum() + (tgb ** 3).sum()).backward()
    np.testing.assert_allclose(ca.grad.numpy(), ta.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(cb.grad.numpy(), tb.grad.numpy(), rtol=1e-9, atol=1e-10)


@st.composite
def _unary_name(draw):
    return draw(st.sampled_from(["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "abs", "relu", "gelu",
                                 "clip", "where"]))


@given(name=_unary_name(), seed=seeds)
def test_hessian_vector_products_of_unary_ops_match_torch(name, seed):
    x = arrays_from_seed(seed, [(2, 3)], "positive")[0]
    v = arrays_from_seed(seed + 1, [(2, 3)])[0]
    cx = cr.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    special = {
        "gelu": (cr.gelu, torch.nn.functional.gelu),
        "clip": (lambda t: cr.clip(t.exp(), 1.5, 6.0), lambda t: torch.clamp(t.exp(), 1.5, 6.0)),
        "where": (lambda t: cr.where(t > 1.2, t.sin(), t.exp()), lambda t: torch.where(t > 1.2, t.sin(), t.exp())),
    }
    cf, tf = special.get(name, (getattr(cr, name), getattr(torch, name, None)))
    (g,) = cr.grad((cf(cx) * cx).sum(), cx, create_graph=True)
    (tg,) = torch.autograd.grad((tf(tx) * tx).sum(), tx, create_graph=True)
    (hv,) = cr.grad((g * cr.tensor(v)).sum(), cx)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    tol = 1e-6 if name == "gelu" else 1e-10
    np.testing.assert_allclose(hv.numpy(), thv.numpy(), rtol=tol, atol=tol)
