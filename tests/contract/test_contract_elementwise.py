# ruff: noqa: B023  (the lambdas are called at once, inside the loop that binds their variables)
"""DESIGN.md "Operations", elementwise part: + - * / ** @, unary ops, comparisons, where, clip,
maximum/minimum, with NumPy broadcasting, Python scalars on either side, reflected operators,
integer/bool tensors; values and gradients against PyTorch."""
from __future__ import annotations

import operator

import numpy as np
import pytest
import torch
from contract_util import compare, pair, randn
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr

SHAPE_PAIRS = [((), ()), ((3,), ()), ((), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((4, 1, 3), (2, 1)),
               ((1,), (2, 3)), ((2, 3), (2, 3)), ((1, 1), ())]
BINARY = {
    "add": (cr.add, torch.add, operator.add),
    "sub": (cr.sub, torch.sub, operator.sub),
    "mul": (cr.mul, torch.mul, operator.mul),
    "div": (cr.div, torch.div, operator.truediv),
    "maximum": (cr.maximum, torch.maximum, None),
    "minimum": (cr.minimum, torch.minimum, None),
    "pow": (cr.pow, torch.pow, operator.pow),
}


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_broadcast_vs_torch(name, shapes, dtype):
    fn, tfn, op = BINARY[name]
    kind = "positive" if name in ("pow", "div") else "normal"
    a = randn(*shapes[0], seed=1, dtype=dtype, kind="positive" if name == "pow" else "normal")
    b = randn(*shapes[1], seed=2, dtype=dtype, kind=kind)
    compare(fn, tfn, [a, b])
    if op is not None:
        compare(op, op, [a, b])
    mname = {"add": "add", "sub": "sub", "mul": "mul", "div": "div"}.get(name, name)
    compare(lambda x, y: getattr(x, mname)(y), lambda x, y: getattr(x, mname)(y), [a, b])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scalar", [2, 2.5, -1.5, 0.5, np.float64(1.5), np.float32(2.0)])
def test_python_scalar_on_either_side(dtype, scalar):
    a = randn(2, 3, seed=3, dtype=dtype, kind="positive")
    for op in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow):
        compare(lambda x, op=op: op(x, scalar), lambda x, op=op: op(x, float(scalar)), [a])
        compare(lambda x, op=op: op(scalar, x), lambda x, op=op: op(float(scalar), x), [a])
    compare(lambda x: cr.maximum(x, cr.tensor(np.asarray(scalar, dtype=dtype))),
            lambda x: torch.maximum(x, torch.tensor(np.asarray(scalar, dtype=dtype))), [a])


@pytest.mark.parametrize("expr", ["2 - x", "2 ** x", "x ** 2", "1 / x", "3 * x", "x ** 0.5", "x ** -1",
                                  "x ** 0", "-x", "+x", "abs(x)", "x ** 3", "0.5 + x", "x / 4", "2.0 ** x"])
def test_reflected_and_unary_operators(expr):
    a = randn(3, 2, seed=4, kind="positive")
    f = eval(f"lambda x: {expr}")
    compare(f, f, [a])
    compare(f, f, [a.astype(np.float32)])


def test_ndarray_on_either_side():
    a32, b32 = randn(2, 3, seed=5, dtype=np.float32), randn(3, seed=6, dtype=np.float32)
    for op in (operator.add, operator.sub, operator.mul, operator.truediv):
        x, tx = pair(a32)
        y, ty = op(b32, x), op(torch.tensor(b32), tx)
        assert isinstance(y, cr.Tensor) and y.dtype == np.float32
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6)
        y2 = op(x, b32)
        assert isinstance(y2, cr.Tensor)
        np.testing.assert_allclose(y2.numpy(), op(tx, torch.tensor(b32)).detach().numpy(), rtol=1e-6)
    m = randn(3, 4, seed=7, dtype=np.float32)
    x = cr.tensor(a32, requires_grad=True)
    y = x @ m
    assert isinstance(y, cr.Tensor)
    np.testing.assert_allclose(y.numpy(), a32 @ m, rtol=1e-5)
    z = m.T @ x.T
    assert isinstance(z, cr.Tensor)
    np.testing.assert_allclose(z.numpy(), m.T @ a32.T, rtol=1e-5)
    (y.sum() + z.sum()).backward()
    tx = torch.tensor(a32, requires_grad=True)
    ((tx @ torch.tensor(m)).sum() + (torch.tensor(m.T) @ tx.T).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5)


def test_float32_never_becomes_float64():
    x = cr.tensor([1.0, 2.0])
    for y in (x + np.float64(1.0), np.float64(2.0) * x, x ** np.float64(2.0), x / 3.0, x * 1e-300,
              cr.maximum(x, np.float64(0.5)), x - np.float64(0.5), cr.where(x > 1, x, 0.0),
              cr.where(x > 1, 0.0, x), cr.clip(x, np.float64(0.0), np.float64(1.5)), x.mean(), x.var(),
              x.std(), cr.logsumexp(x, axis=0), cr.softmax(x, axis=0), cr.exp(x), cr.sigmoid(x), x.sum()):
        assert y.dtype == np.float32, y


INT_CASES = [
    ("int+int", lambda a, b: a + b), ("int*int", lambda a, b: a * b), ("int-int", lambda a, b: a - b),
    ("int/int", lambda a, b: a / b), ("int/2", lambda a, b: a / 2), ("int*0.5", lambda a, b: a * 0.5),
    ("int+1", lambda a, b: a + 1), ("2-int", lambda a, b: 2 - a), ("int**2", lambda a, b: a ** 2),
    ("-int", lambda a, b: -a), ("abs(int)", lambda a, b: abs(a)), ("int==int", lambda a, b: a == b),
    ("int<2", lambda a, b: a < 2), ("int>=int", lambda a, b: a >= b), ("int!=1.5", lambda a, b: a != 1.5),
]


@pytest.mark.parametrize("name,f", INT_CASES, ids=[c[0] for c in INT_CASES])
def test_integer_tensors_like_torch(name, f):
    a, b = np.array([[1, -2, 3], [4, 5, -6]]), np.array([2, 3, 1])
    y = f(cr.tensor(a), cr.tensor(b))
    t = f(torch.tensor(a), torch.tensor(b))
    assert str(y.dtype) == str(t.dtype).replace("torch.", "chainrule."), (y.dtype, t.dtype)
    np.testing.assert_allclose(y.numpy(), t.numpy(), rtol=1e-6)


def test_int_tensor_with_float_tensor_and_bool_tensors():
    i, f = np.array([1, 2, 3]), randn(3, seed=8, dtype=np.float32)
    compare(lambda x: cr.tensor(i) * x, lambda x: torch.tensor(i) * x, [f])
    compare(lambda x: x + cr.tensor(i), lambda x: x + torch.tensor(i), [f])
    m = np.array([True, False, True])
    compare(lambda x: x * cr.tensor(m), lambda x: x * torch.tensor(m), [f])
    y = cr.tensor(m) & cr.tensor(~m)
    assert y.dtype == np.bool_ and not y.numpy().any()
    assert (~cr.tensor(m)).numpy().tolist() == [False, True, False]
    assert (cr.tensor(m) | cr.tensor(~m)).numpy().all()


@pytest.mark.parametrize("op", [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge])
def test_comparisons_no_gradient(op):
    a, b = randn(2, 3, seed=9), randn(3, seed=10)
    b[1] = a[0, 1]
    x = cr.tensor(a, requires_grad=True)
    y = op(x, cr.tensor(b))
    assert y.dtype == np.bool_ and not y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), op(torch.tensor(a), torch.tensor(b)).numpy())
    assert op(x, 0.0).dtype == np.bool_ and op(0.0, x).dtype == np.bool_
    np.testing.assert_array_equal(op(0.0, x).numpy(), op(0.0, torch.tensor(a)).numpy())


UNARY = {
    "exp": ("normal", torch.exp), "log": ("positive", torch.log), "sqrt": ("positive", torch.sqrt),
    "abs": ("away", torch.abs), "sin": ("normal", torch.sin), "cos": ("normal", torch.cos),
    "tanh": ("normal", torch.tanh), "sigmoid": ("normal", torch.sigmoid), "relu": ("away", torch.relu),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", [(), (1,), (3,), (2, 1, 3), (0, 2)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_function_and_method(name, shape, dtype):
    kind, tfn = UNARY[name]
    a = randn(*shape, seed=11, dtype=dtype, kind=kind)
    compare(getattr(cr, name), tfn, [a])
    compare(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), [a])


def test_unary_edge_values_like_torch():
    a = np.array([0.0, -0.0, 1e-30, 50.0, -50.0, -800.0, 800.0])
    for name in ("abs", "relu", "sigmoid", "tanh", "exp"):
        with np.errstate(over="ignore"):
            compare(getattr(cr, name), getattr(torch, name), [a])
    compare(cr.sqrt, torch.sqrt, [np.array([0.0, 4.0])])  # d sqrt at 0 is inf, as torch
    compare(cr.log, torch.log, [np.array([0.0, 1.0])])  # -inf and d log at 0 = inf


@pytest.mark.parametrize("lo,hi", [(-0.5, 0.5), (None, 0.3), (-0.2, None), (0.0, 0.0)])
def test_clip_vs_clamp(lo, hi):
    a = randn(3, 4, seed=12)
    a[0, :2] = [-0.5, 0.5]  # exactly on the bounds: torch passes the gradient there
    compare(lambda x: cr.clip(x, lo, hi), lambda x: torch.clamp(x, lo, hi), [a])
    compare(lambda x: x.clip(lo, hi), lambda x: x.clip(lo, hi), [a])
    compare(lambda x: cr.clip(x, min=lo, max=hi), lambda x: torch.clamp(x, min=lo, max=hi), [a])


def test_maximum_minimum_ties_split_like_torch():
    a = np.array([1.0, 2.0, 3.0, 3.0])
    b = np.array([1.0, 3.0, 2.0, 3.0])
    compare(cr.maximum, torch.maximum, [a, b])
    compare(cr.minimum, torch.minimum, [a, b])
    compare(lambda x, y: x.maximum(y), lambda x, y: x.maximum(y), [a, b])


def test_pow_edge_cases_like_torch():
    base = np.array([0.0, 0.0, 2.0, 1.5, 0.0])
    expo = np.array([2.0, 0.0, 0.0, -1.0, 3.0])
    compare(cr.pow, torch.pow, [base, expo])
    compare(lambda x: x ** 0, lambda x: x ** 0, [np.array([0.0, 1.0])])
    compare(lambda x: x ** 2, lambda x: x ** 2, [np.array([-3.0, 0.0])])
    compare(lambda x: cr.pow(x, 3), lambda x: torch.pow(x, 3), [np.array([-3.0, 0.0, 2.0])])
    compare(lambda x: cr.pow(2.0, x), lambda x: torch.pow(2.0, x), [np.array([-3.0, 0.0, 2.0])])
    compare(lambda x: 0.0 ** x, lambda x: 0.0 ** x, [np.array([1.0, 2.0])])


MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                 ((2, 3), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 4)), ((1, 3), (3, 1)), ((4, 1, 3), (3,))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_vs_torch(shapes, dtype):
    a, b = randn(*shapes[0], seed=13, dtype=dtype), randn(*shapes[1], seed=14, dtype=dtype)
    compare(cr.matmul, torch.matmul, [a, b])
    compare(operator.matmul, operator.matmul, [a, b])
    compare(lambda x, y: x.matmul(y), lambda x, y: x.matmul(y), [a, b])


def test_matmul_shape_error_names_shapes():
    with pytest.raises(cr.ChainruleError, match=r"matmul.*\(2, 3\).*\(4, 5\)|matmul.*\(4, 5\).*\(2, 3\)"):
        cr.zeros(2, 3) @ cr.zeros(4, 5)
    with pytest.raises(cr.ChainruleError, match=r"\(2, 3\).*\(4,\)|\(4,\).*\(2, 3\)"):
        cr.zeros(2, 3) + cr.zeros(4)


WHERE_SHAPES = [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), ()), ((3,), (2, 1), (1, 3)), ((), (2,), (2,))]


@pytest.mark.parametrize("shapes", WHERE_SHAPES, ids=str)
def test_where_vs_torch(shapes):
    c = np.random.default_rng(15).random(shapes[0]) > 0.5
    a, b = randn(*shapes[1], seed=16), randn(*shapes[2], seed=17)
    compare(lambda x, y: cr.where(cr.tensor(c), x, y), lambda x, y: torch.where(torch.tensor(c), x, y), [a, b])
    compare(lambda x: cr.where(cr.tensor(c), x, 0.0), lambda x: torch.where(torch.tensor(c), x, 0.0), [a])
    compare(lambda x: cr.where(cr.tensor(c), 1.5, x), lambda x: torch.where(torch.tensor(c), 1.5, x), [b])


def test_where_untaken_branch_gets_exact_zero_under_nan_and_inf():
    x = cr.tensor([-1.0, 1.0, 4.0], dtype=cr.float64, requires_grad=True)
    y = cr.where(x > 0, x, cr.log(x))  # log(-1) is NaN on the branch not taken
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 1.0, 1.0])
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    w = cr.where(cr.tensor([True, False]), a, b)
    w.backward(cr.tensor([np.inf, np.nan]))
    assert a.grad.numpy()[1] == 0.0 and b.grad.numpy()[0] == 0.0
    assert np.isinf(a.grad.numpy()[0]) and np.isnan(b.grad.numpy()[1])


def test_gradcheck_broadcast_binary():
    a = cr.tensor(randn(2, 1, 3, seed=18, kind="positive"), requires_grad=True)
    b = cr.tensor(randn(4, 1, seed=19, kind="positive"), requires_grad=True)
    for f in (lambda x, y: x * y + x / y - y ** x, lambda x, y: cr.maximum(x, y) * cr.minimum(x, y)):
        assert cr.gradcheck(f, (a, b))


MIXED_INT_CASES = [
    ("exp(int)", lambda m, t: m.exp(t(np.array([1, 2])))), ("sqrt(bool)", lambda m, t: m.sqrt(t(np.array([True])))),
    ("sigmoid(int)", lambda m, t: m.sigmoid(t(np.array([-1, 2])))),
    ("relu(int)", lambda m, t: m.relu(t(np.array([-1, 2])))),
    ("tanh(int)", lambda m, t: m.tanh(t(np.array([1, 0])))), ("log(int)", lambda m, t: m.log(t(np.array([1, 3])))),
    ("where(int, 0.5)", lambda m, t: m.where(t(np.array([True, False])), t(np.array([1, 2])), 0.5)),
    ("where(0.5, int)", lambda m, t: m.where(t(np.array([True, False])), 0.5, t(np.array([1, 2])))),
    ("where(1.0, 0.0)", lambda m, t: m.where(t(np.array([True, False])), 1.0, 0.0)),
    ("where(int, 0)", lambda m, t: m.where(t(np.array([True, False])), t(np.array([1, 2])), 0)),
    ("clip(int, floats)", lambda m, t: m.clip(t(np.array([0, 1, 3])), 0.5, 2.5)),
    ("clip(int, ints)", lambda m, t: m.clip(t(np.array([0, 1, 3])), 1, 2)),
    ("logsumexp(int)", lambda m, t: m.logsumexp(t(np.array([1, 2, 3])), 0)),
    ("int ** 0.5", lambda m, t: t(np.array([1, 4])) ** 0.5), ("int ** int", lambda m, t: t(np.array([2, 3])) ** 2),
    ("bool * 2", lambda m, t: t(np.array([True, False])) * 2), ("bool * 1.5", lambda m, t: t(np.array([True])) * 1.5),
    ("maximum(int, int)", lambda m, t: m.maximum(t(np.array([1, 5])), t(np.array([3, 2])))),
    ("sum(bool)", lambda m, t: m.sum(t(np.array([True, True, False])))),
    ("int @ int", lambda m, t: t(np.arange(4).reshape(2, 2)) @ t(np.arange(4).reshape(2, 2))),
    ("f16 * 2.5", lambda m, t: t(np.array([1.0, 2.0], dtype=np.float16)) * 2.5),
    ("f32 + int tensor", lambda m, t: t(np.array([1.5], dtype=np.float32)) + t(np.array([2]))),
]


@pytest.mark.parametrize("name,f", MIXED_INT_CASES, ids=[c[0] for c in MIXED_INT_CASES])
def test_integer_bool_inputs_dtype_and_values_like_torch(name, f):
    with np.errstate(all="ignore"):
        y = f(cr, cr.tensor)
    t = f(torch, torch.tensor)
    assert str(y.dtype) == str(t.dtype).replace("torch.", "chainrule."), (y.dtype, t.dtype)
    np.testing.assert_allclose(y.numpy(), t.numpy(), rtol=1e-6)


def test_bad_dtype_in_op_is_a_chainrule_error():
    with pytest.raises(cr.ChainruleError, match="softmax"):
        cr.softmax(cr.tensor([1, 2]), 0)  # torch refuses integer softmax too


@settings(max_examples=30, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       name=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_property_binary_broadcasting_vs_torch(shapes, name, seed):
    fn, tfn, _ = BINARY[name]
    a = randn(*shapes.input_shapes[0], seed=seed, kind="positive")
    b = randn(*shapes.input_shapes[1], seed=seed + 1, kind="positive" if name in ("div", "pow") else "normal")
    compare(fn, tfn, [a, b], seed=seed)


@settings(max_examples=30, deadline=None)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3), data=st.data(),
       name=st.sampled_from(["sum", "mean", "amax", "amin", "logsumexp", "var", "std"]), keep=st.booleans())
def test_property_reductions_vs_torch(shape, data, name, keep):
    nd = len(shape)
    axes = data.draw(st.lists(st.integers(-max(nd, 1), max(nd, 1) - 1), min_size=1, max_size=max(nd, 1),
                              unique_by=lambda v: v % max(nd, 1)))
    axis = tuple(axes) if len(axes) > 1 else axes[0]
    a = randn(*shape, seed=len(shape))
    tname = {"max": "amax", "min": "amin"}.get(name, name)
    kw = {"correction": 0} if name in ("var", "std") else {}
    if name == "std":
        a = a + np.arange(a.size).reshape(shape)  # no constant slice: std's gradient is defined
    compare(lambda x: getattr(cr, name)(x, axis=axis, keepdims=keep, **kw),
            lambda t: getattr(torch, tname)(t, dim=axis, keepdim=keep, **kw), [a])
