"""Sequential runs a Linear followed by a ReLU, Sigmoid or Tanh as one op (linear_act): same values,
gradients and second derivatives as PyTorch's two layers, and the two layers again wherever a hook
could see the Linear's own output."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.ops.linalg import linear_act

ACTS = ["ReLU", "Sigmoid", "Tanh"]


def _pair(dtype=np.float32, bias=True, act="ReLU"):
    torch.manual_seed(0)
    tdt = torch.float32 if dtype == np.float32 else torch.float64
    ta, ca = getattr(torch.nn, act), getattr(cr.nn, act)
    tm = torch.nn.Sequential(torch.nn.Linear(6, 9, bias=bias), ta(), torch.nn.Linear(9, 9, bias=bias),
                             ta(), torch.nn.Linear(9, 3, bias=bias)).to(tdt)
    cm = cr.nn.Sequential(cr.nn.Linear(6, 9, bias=bias), ca(), cr.nn.Linear(9, 9, bias=bias),
                          ca(), cr.nn.Linear(9, 3, bias=bias))
    cm.load_state_dict({k: v.detach().numpy().astype(dtype) for k, v in tm.state_dict().items()})
    if dtype == np.float64:
        cm = cm.double()
    return tm, cm


def _x(dtype=np.float32, n=11):
    return np.random.default_rng(1).standard_normal((n, 6)).astype(dtype)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("act", ACTS)
def test_sequential_fuses_and_matches_torch(bias, act):
    tm, cm = _pair(bias=bias, act=act)
    x = _x()
    out = cm(cr.tensor(x))
    # the last Linear's input comes from the fused op, not from a separate activation node
    assert out.grad_fn.name() == "LinearBackward0"
    assert out.grad_fn.next[0].name() == f"Linear{act.title()}Backward0"
    tout = tm(torch.from_numpy(x))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    w = np.random.default_rng(2).standard_normal(out.shape).astype(np.float32)
    (out * cr.tensor(w)).sum().backward()
    (tout * torch.from_numpy(w)).sum().backward()
    for (name, tp), cp in zip(tm.named_parameters(), cm.parameters()):
        np.testing.assert_allclose(cp.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_gradient_is_zero_where_the_unit_is_off():
    lin = cr.nn.Linear(2, 2)
    with cr.no_grad():
        lin.weight.data[...] = np.array([[1.0, 0.0], [0.0, -1.0]], np.float32)
        lin.bias.data[...] = 0.0
    x = cr.tensor(np.array([[2.0, 3.0]], np.float32), requires_grad=True)
    y = linear_act(x, lin.weight, lin.bias, "relu")  # units: 2 (on) and -3 (off)
    np.testing.assert_array_equal(y.numpy(), [[2.0, 0.0]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0]])
    np.testing.assert_array_equal(lin.weight.grad.numpy(), [[2.0, 3.0], [0.0, 0.0]])
    np.testing.assert_array_equal(lin.bias.grad.numpy(), [1.0, 0.0])


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
def test_linear_act_gradcheck_float64(act):
    rng = np.random.default_rng(3)
    x = cr.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = cr.tensor(rng.standard_normal(3), requires_grad=True)
    assert cr.gradcheck(lambda x, w, b: linear_act(x, w, b, act), (x, w, b))


@pytest.mark.parametrize("act", ACTS)
def test_second_derivative_through_the_fused_op_matches_torch(act):
    tm, cm = _pair(np.float64, act=act)
    x = _x(np.float64, 5)
    cx = cr.tensor(x, requires_grad=True)
    tx = torch.from_numpy(x).requires_grad_()
    (cg,) = cr.grad(cm(cx).pow(2).sum(), [cx], create_graph=True)
    (tg,) = torch.autograd.grad(tm(tx).pow(2).sum(), [tx], create_graph=True)
    np.testing.assert_allclose(cg.numpy(), tg.detach().numpy(), rtol=1e-10)
    (cg * cg).sum().backward()
    (tg * tg).sum().backward()
    for (name, tp), cp in zip(tm.named_parameters(), cm.parameters()):
        np.testing.assert_allclose(cp.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("where", [0, 1])
def test_a_hook_on_either_layer_sees_what_torch_shows(where):
    tm, cm = _pair()
    seen_t, seen_c = [], []
    tm[where].register_forward_hook(lambda m, a, out: seen_t.append(out.detach().numpy().copy()))
    cm[where].register_forward_hook(lambda m, a, out: seen_c.append(out.numpy().copy()))
    x = _x()
    np.testing.assert_allclose(cm(cr.tensor(x)).numpy(), tm(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert len(seen_c) == len(seen_t) == 1
    np.testing.assert_allclose(seen_c[0], seen_t[0], rtol=1e-5, atol=1e-6)
    if where == 0:  # the Linear's own output has negative values: it was not overwritten by the ReLU
        assert (seen_c[0] < 0).any()


def test_sigmoid_saturates_without_warning_or_nan_in_place():
    lin = cr.nn.Linear(1, 2)
    with cr.no_grad():
        lin.weight.data[...] = np.array([[1000.0], [-1000.0]], np.float32)
        lin.bias.data[...] = 0.0
    x = cr.tensor(np.array([[1.0]], np.float32), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = linear_act(x, lin.weight, lin.bias, "sigmoid")
    np.testing.assert_array_equal(y.numpy(), [[1.0, 0.0]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0]])


def test_a_module_swapped_in_later_is_run():
    _, cm = _pair()
    x = cr.tensor(_x())
    cm[1] = cr.nn.Tanh()  # no longer Linear then ReLU
    tanh_out = cm[0](x).tanh()
    expected = cm[4](cm[3](cm[2](tanh_out)))
    np.testing.assert_allclose(cm(x).numpy(), expected.numpy(), rtol=1e-6)
