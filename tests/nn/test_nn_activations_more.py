"""The activations beyond relu/sigmoid/tanh/gelu, as layers and functions, against PyTorch: values and
gradients at kinks and boundaries (relu6 at 0 and 6), at large |x| (no overflow), repr and bad arguments."""
import numpy as np
import pytest
import torch
from nn_compare import compare_module

import chainrule as cr

X = np.array([-100.0, -30.0, -6.0, -3.0, -1.5, -1.0, -0.5, 0.0, 0.3, 1.0, 2.5, 3.0, 6.0, 7.0, 25.0, 100.0],
             dtype=np.float32)

LAYERS = [
    ("ELU", ()), ("ELU", (0.5,)), ("SELU", ()), ("CELU", (1.5,)), ("SiLU", ()), ("Mish", ()), ("Softplus", ()),
    ("Softplus", (2, 5)), ("Hardtanh", ()), ("Hardtanh", (-2.0, 3.0)), ("ReLU6", ()), ("Softsign", ()),
    ("Tanhshrink", ()), ("LogSigmoid", ()), ("Hardswish", ()), ("Hardsigmoid", ()), ("Threshold", (0.5, -2.0)),
    ("PReLU", ()), ("GLU", ()),
]


@pytest.mark.parametrize("name,args", LAYERS, ids=[f"{n}{a}" for n, a in LAYERS])
def test_layer_matches_pytorch_values_gradients_and_repr(name, args):
    cm, tm = getattr(cr.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(cm) == repr(tm)
    compare_module(cm, tm, X.reshape(2, 8), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["ELU", "SiLU", "Mish", "Softplus", "LogSigmoid", "SELU"])
def test_float64_matches_pytorch_closely(name):
    compare_module(getattr(cr.nn, name)(), getattr(torch.nn, name)(), X.astype(np.float64).reshape(4, 4),
                   rtol=1e-12, atol=1e-12)


def test_prelu_has_one_slope_per_channel_and_learns_it():
    cm, tm = cr.nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1)
    assert repr(cm) == repr(tm) == "PReLU(num_parameters=3)"
    x = np.random.default_rng(0).standard_normal((2, 3, 2, 2)).astype(np.float32)
    compare_module(cm, tm, x)
    with pytest.raises(cr.ChainruleError, match=r"weight has 3 slopes but input of shape \(2, 4\) has 4 channels"):
        cm(cr.randn(2, 4))


def test_inplace_flags_print_like_pytorch():
    for name, args in [("ELU", (1.0, True)), ("SiLU", (True,)), ("ReLU6", (True,)), ("Hardtanh", (-1.0, 1.0, True)),
                       ("SELU", (True,)), ("Threshold", (0.1, 20, True)), ("Mish", (True,))]:
        assert repr(getattr(cr.nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


@pytest.mark.parametrize("fn,args", [
    ("elu", (0.3,)), ("selu", ()), ("celu", (0.7,)), ("silu", ()), ("mish", ()), ("softplus", (0.5, 3.0)),
    ("hardtanh", (-0.5, 2.0)), ("relu6", ()), ("logsigmoid", ()), ("softsign", ()), ("tanhshrink", ()),
    ("threshold", (1.0, 0.5)), ("hardswish", ()), ("hardsigmoid", ()),
])
def test_functional_forms_match_pytorch(fn, args):
    cx, tx = cr.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    cy, ty = getattr(cr.nn.functional, fn)(cx, *args), getattr(torch.nn.functional, fn)(tx, *args)
    np.testing.assert_allclose(cy.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    (cy * cr.tensor(np.arange(16, dtype=np.float32))).sum().backward()
    (ty * torch.arange(16, dtype=torch.float32)).sum().backward()
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert np.isfinite(cy.numpy()).all() and np.isfinite(cx.grad.numpy()).all()


def test_integer_input_gives_float32_as_pytorch():
    for fn in ("silu", "elu", "softplus", "mish", "hardtanh"):
        y = getattr(cr.nn.functional, fn)(cr.tensor([-2, 0, 3]))
        assert y.dtype == cr.float32, fn
        ref = getattr(torch.nn.functional, fn)(torch.tensor([-2.0, 0.0, 3.0]))
        np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-6)


def test_glu_halves_along_dim():
    x = np.random.default_rng(1).standard_normal((2, 6)).astype(np.float32)
    compare_module(cr.nn.GLU(1), torch.nn.GLU(1), x)
    with pytest.raises(cr.ChainruleError, match="must have an even size, got 5"):
        cr.nn.functional.glu(cr.randn(2, 5))


def test_gumbel_softmax_soft_hard_and_frequencies():
    logits = cr.tensor(np.log(np.array([[0.7, 0.2, 0.1]] * 4000, dtype=np.float32)), requires_grad=True)
    gen = cr.Generator().manual_seed(0)
    soft = cr.nn.functional.gumbel_softmax(logits, tau=0.5, generator=gen)
    np.testing.assert_allclose(soft.numpy().sum(1), 1.0, rtol=1e-5)
    hard = cr.nn.functional.gumbel_softmax(logits, tau=1.0, hard=True, generator=gen)
    h = hard.numpy()
    assert set(np.unique(h)) <= {0.0, 1.0} and (h.sum(1) == 1).all()
    np.testing.assert_allclose(h.mean(0), [0.7, 0.2, 0.1], atol=0.03)  # argmax of logits + Gumbel ~ softmax
    (hard * cr.tensor([1.0, 2.0, 3.0])).sum().backward()  # straight through: the soft sample's gradient
    assert np.abs(logits.grad.numpy()).sum() > 0
    with pytest.raises(ValueError, match="tau must be > 0"):
        cr.nn.functional.gumbel_softmax(logits, tau=0.0)


@pytest.mark.parametrize("build,match", [
    (lambda: cr.nn.Hardtanh(2.0, 1.0), "min_val 2.0 must not be greater than max_val 1.0"),
    (lambda: cr.nn.ELU("a"), "alpha must be a finite number"),
    (lambda: cr.nn.PReLU(0), "num_parameters must be an integer >= 1"),
    (lambda: cr.nn.functional.softplus(cr.randn(2), beta=0), "beta must not be 0"),
    (lambda: cr.nn.functional.celu(cr.randn(2), alpha=0), "alpha must not be 0"),
])
def test_bad_arguments_are_refused_by_name(build, match):
    with pytest.raises(ValueError, match=match):
        build()
