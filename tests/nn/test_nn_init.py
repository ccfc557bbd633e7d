"""Initialisation: gains and fans equal PyTorch's; bounds and statistics of the samples are right."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule as cr

init = cr.nn.init


@pytest.mark.parametrize("name,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                        ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5, 5), (2, 6, 3)])
def test_fans(shape):
    assert init._calculate_fan_in_and_fan_out(cr.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


def test_fans_need_two_dims():
    with pytest.raises(cr.ShapeError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(cr.zeros(5))
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(cr.zeros(2, 2), mode="fan_avg")


def _uniform_bound(values: np.ndarray, bound: float) -> None:
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.95 * bound  # the range is used, not a smaller one
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_uniform_family_bounds():
    cr.manual_seed(0)
    fan_in, fan_out = 200, 300
    w = cr.empty(fan_out, fan_in)
    _uniform_bound(init.xavier_uniform_(w, gain=2.0).numpy(), 2.0 * math.sqrt(6 / (fan_in + fan_out)))
    _uniform_bound(init.kaiming_uniform_(w, a=0.1, nonlinearity="leaky_relu").numpy(),
                   math.sqrt(2 / (1 + 0.01)) * math.sqrt(3 / fan_in))
    _uniform_bound(init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu").numpy(),
                   math.sqrt(2) * math.sqrt(3 / fan_out))
    _uniform_bound(init.uniform_(w, -0.3, 0.3).numpy(), 0.3)
    v = init.uniform_(w, 2.0, 3.0).numpy()
    assert v.min() >= 2.0 and v.max() <= 3.0 and v.mean() == pytest.approx(2.5, abs=0.01)


def test_normal_family_statistics():
    cr.manual_seed(1)
    fan_in, fan_out = 250, 400
    w = cr.empty(fan_out, fan_in)
    assert init.xavier_normal_(w, gain=0.5).numpy().std() == pytest.approx(0.5 * math.sqrt(2 / (fan_in + fan_out)),
                                                                            rel=0.02)
    assert init.kaiming_normal_(w, nonlinearity="relu").numpy().std() == pytest.approx(math.sqrt(2 / fan_in),
                                                                                       rel=0.02)
    v = init.normal_(w, mean=3.0, std=0.5).numpy()
    assert v.mean() == pytest.approx(3.0, abs=0.01) and v.std() == pytest.approx(0.5, rel=0.02)


def test_constant_fills_keep_dtype_and_identity():
    w = cr.nn.Parameter(cr.empty(3, 2, dtype=cr.float64))
    arr = w.numpy()
    assert init.zeros_(w) is w and not w.numpy().any()
    assert init.ones_(w).numpy().sum() == 6
    assert (init.constant_(w, 0.25).numpy() == 0.25).all()
    assert w.numpy() is arr and w.dtype == np.float64 and w.requires_grad
    assert w.grad_fn is None  # filled without recording


def test_default_layer_init_matches_torch_ranges():
    cr.manual_seed(0)
    lin = cr.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=√5) gives the same bound as the bias
    _uniform_bound(lin.weight.numpy(), bound)
    assert np.abs(lin.bias.numpy()).max() <= bound
    conv = cr.nn.Conv2d(16, 32, 3)
    cb = 1 / math.sqrt(16 * 9)
    _uniform_bound(conv.weight.numpy(), cb)
    assert np.abs(conv.bias.numpy()).max() <= cb
    emb = cr.nn.Embedding(500, 100)
    assert emb.weight.numpy().std() == pytest.approx(1.0, rel=0.02)
    bn = cr.nn.BatchNorm2d(4)
    assert (bn.weight.numpy() == 1).all() and (bn.bias.numpy() == 0).all()
    assert lin.weight.dtype == np.float32 and lin.weight.shape == (300, 400)


def test_manual_seed_makes_init_repeatable():
    cr.manual_seed(7)
    a = cr.nn.Linear(5, 4).weight.numpy().copy()
    cr.manual_seed(7)
    np.testing.assert_array_equal(cr.nn.Linear(5, 4).weight.numpy(), a)


def test_trunc_normal_orthogonal_eye():
    cr.manual_seed(3)
    w = cr.empty(300, 200)
    v = init.trunc_normal_(w, mean=0.5, std=1.0, a=-1.0, b=1.5).numpy()
    assert v.min() >= -1.0 and v.max() <= 1.5
    ref = torch.nn.init.trunc_normal_(torch.empty(300, 200), mean=0.5, std=1.0, a=-1.0, b=1.5).numpy()
    assert v.mean() == pytest.approx(ref.mean(), abs=0.01) and v.std() == pytest.approx(ref.std(), rel=0.02)
    for shape in ((6, 4), (4, 6), (3, 2, 2)):
        q = init.orthogonal_(cr.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
        small = q @ q.T if shape[0] <= q.shape[1] else q.T @ q
        np.testing.assert_allclose(small, 4.0 * np.eye(len(small)), atol=1e-5)
    np.testing.assert_array_equal(init.eye_(cr.empty(2, 3)).numpy(), np.eye(2, 3, dtype=np.float32))
