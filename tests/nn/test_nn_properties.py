"""Property-based tests: convolution and pooling over random geometry, against PyTorch."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import chainrule as cr

F = cr.nn.functional
TF = torch.nn.functional

geometry = st.fixed_dictionaries({
    "n": st.integers(1, 2), "c": st.integers(1, 3), "o": st.integers(1, 3),
    "h": st.integers(1, 7), "w": st.integers(1, 7),
    "kh": st.integers(1, 3), "kw": st.integers(1, 3),
    "stride": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    "padding": st.tuples(st.integers(0, 2), st.integers(0, 2)),
    "dilation": st.tuples(st.integers(1, 2), st.integers(1, 2)),
    "bias": st.booleans(), "seed": st.integers(0, 2**16),
})


def _fits(g) -> bool:
    return all(n + 2 * p - d * (k - 1) - 1 >= 0 for n, k, p, d in (
        (g["h"], g["kh"], g["padding"][0], g["dilation"][0]), (g["w"], g["kw"], g["padding"][1], g["dilation"][1])))


def _compare(cr_fn, t_fn, arrays, rtol=1e-9, atol=1e-10):
    cx = [cr.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = cr_fn(*cx), t_fn(*tx)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol, atol=atol)
    up = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(cr.tensor(up))
    ty.backward(torch.tensor(up))
    for i, (a, b) in enumerate(zip(cx, tx)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"input {i}")


@given(geometry)
def test_conv2d_any_geometry(g):
    assume(_fits(g))
    rng = np.random.default_rng(g["seed"])
    arrays = [rng.standard_normal((g["n"], g["c"], g["h"], g["w"])), rng.standard_normal((g["o"], g["c"], g["kh"],
                                                                                          g["kw"]))]
    if g["bias"]:
        arrays.append(rng.standard_normal(g["o"]))
    kw = dict(stride=g["stride"], padding=g["padding"], dilation=g["dilation"])
    _compare(lambda *a: F.conv2d(*a, **kw), lambda *a: TF.conv2d(*a, **kw), arrays)


@given(geometry)
def test_pools_any_geometry(g):
    # PyTorch corrupts memory on windows made only of padding (dilation with padding), so keep them apart
    padding = tuple(0 if d > 1 else min(p, k // 2) for p, k, d in zip(g["padding"], (g["kh"], g["kw"]),
                                                                       g["dilation"]))
    g = dict(g, padding=padding)
    assume(_fits(g))
    rng = np.random.default_rng(g["seed"])
    x = rng.permutation(g["n"] * g["c"] * g["h"] * g["w"]).reshape(g["n"], g["c"], g["h"], g["w"]) / 10.0
    k = (g["kh"], g["kw"])
    ceil = g["bias"]  # reuse the drawn boolean for ceil_mode
    mkw = dict(stride=g["stride"], padding=padding, dilation=g["dilation"], ceil_mode=ceil)
    if not (ceil and max(g["dilation"]) > 1):  # PyTorch again: its backward of padding-only windows
        _compare(lambda a: F.max_pool2d(a, k, **mkw), lambda a: TF.max_pool2d(a, k, **mkw), [x])
    for include in (True, False):
        akw = dict(stride=g["stride"], padding=padding, count_include_pad=include, ceil_mode=ceil)
        _compare(lambda a, akw=akw: F.avg_pool2d(a, k, **akw), lambda a, akw=akw: TF.avg_pool2d(a, k, **akw), [x])


@given(st.integers(1, 5), st.integers(1, 4), st.integers(0, 3), st.sampled_from(["mean", "sum", "none"]),
       st.integers(0, 2**16))
def test_cross_entropy_any_shape(n, c, extra, reduction, seed):
    rng = np.random.default_rng(seed)
    spatial = tuple(rng.integers(1, 3, extra))
    x = rng.standard_normal((n, c) + spatial) * 3
    t = rng.integers(0, c, (n,) + spatial)
    _compare(lambda a: F.cross_entropy(a, cr.tensor(t), reduction=reduction),
             lambda a: TF.cross_entropy(a, torch.tensor(t), reduction=reduction), [x])


@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.booleans(), st.integers(0, 2**16))
def test_batch_norm_any_shape(n, c, extra, training, seed):
    rng = np.random.default_rng(seed)
    shape = (n, c) + tuple(rng.integers(1, 4, extra))
    assume(not training or np.prod(shape) // c > 1)
    x, w, b = rng.standard_normal(shape) * 3 + 1, rng.standard_normal(c), rng.standard_normal(c)
    rm, rv = rng.standard_normal(c), rng.random(c) + 0.5
    crm, crv, trm, trv = cr.tensor(rm), cr.tensor(rv), torch.tensor(rm), torch.tensor(rv)
    _compare(lambda *a: F.batch_norm(a[0], crm, crv, a[1], a[2], training=training, momentum=0.3),
             lambda *a: TF.batch_norm(a[0], trm, trv, a[1], a[2], training=training, momentum=0.3), [x, w, b],
             rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(crm.numpy(), trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(crv.numpy(), trv.numpy(), rtol=1e-12)


@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.integers(1, 3), st.integers(0, 2**16))
def test_layer_norm_any_shape(shape, k, seed):
    k = min(k, len(shape))
    rng = np.random.default_rng(seed)
    ns = tuple(shape[len(shape) - k:])
    x, w, b = rng.standard_normal(shape) * 2, rng.standard_normal(ns), rng.standard_normal(ns)
    _compare(lambda *a: F.layer_norm(a[0], ns, a[1], a[2]), lambda *a: TF.layer_norm(a[0], ns, a[1], a[2]),
             [x, w, b], rtol=1e-8, atol=1e-9)
