# ruff: noqa: B023  (the lambdas are called at once, inside the loop that binds their variables)
"""DESIGN.md "cr.optim": SGD, Adam, AdamW, RMSprop with PyTorch's keyword names and update rules,
param groups, zero_grad, state_dict/load_state_dict; lr_scheduler StepLR, ExponentialLR,
CosineAnnealingLR, LinearLR. Trajectories compared with torch.optim step by step."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from contract_util import randn

import chainrule as cr

OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, betas=(0.85, 0.99), weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.05, momentum=0.5)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9)),
]


def _problem():
    w0, b0 = randn(3, 4, seed=70, dtype=np.float32), randn(3, seed=71, dtype=np.float32)
    xs = [randn(5, 4, seed=72 + i, dtype=np.float32) for i in range(25)]
    return w0, b0, xs


def _loss(w, b, x, lib):
    y = x @ w.T + b
    return (lib.tanh(y) * y).sum() / 5


def run_both(name, kw, steps=25, groups=False):
    w0, b0, xs = _problem()
    cw, cb = cr.nn.Parameter(cr.tensor(w0)), cr.nn.Parameter(cr.tensor(b0))
    tw, tb = torch.nn.Parameter(torch.tensor(w0)), torch.nn.Parameter(torch.tensor(b0))
    if groups:
        copt = getattr(cr.optim, name)([{"params": [cw]}, {"params": [cb], "lr": 0.003}], **kw)
        topt = getattr(torch.optim, name)([{"params": [tw]}, {"params": [tb], "lr": 0.003}], **kw)
    else:
        copt, topt = getattr(cr.optim, name)([cw, cb], **kw), getattr(torch.optim, name)([tw, tb], **kw)
    storage = cw.numpy()
    for x in xs[:steps]:
        copt.zero_grad()
        topt.zero_grad()
        _loss(cw, cb, cr.tensor(x), cr).backward()
        _loss(tw, tb, torch.tensor(x), torch).backward()
        copt.step()
        topt.step()
    assert np.shares_memory(cw.numpy(), storage) and cw.dtype == np.float32  # updated in place, in its dtype
    return (cw, cb, copt), (tw, tb, topt)


@pytest.mark.parametrize("name,kw", OPTIMIZERS, ids=[f"{n}-{k}" for n, k in OPTIMIZERS])
def test_trajectory_matches_torch(name, kw):
    (cw, cb, copt), (tw, tb, topt) = run_both(name, kw)
    np.testing.assert_allclose(cw.numpy(), tw.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(cb.numpy(), tb.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert cw.dtype == np.float32 and cw.is_leaf and cw.requires_grad
    sd, tsd = copt.state_dict(), topt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == sorted(tsd["state"]) == ([0, 1] if name != "SGD" or kw.get("momentum") else [])
    assert sorted(sd["state"].get(0, {})) == sorted(tsd["state"].get(0, {}))
    for k, v in tsd["state"].get(0, {}).items():
        c = sd["state"][0][k]
        c = c.numpy() if isinstance(c, cr.Tensor) else np.asarray(c)
        np.testing.assert_allclose(c, v.numpy() if isinstance(v, torch.Tensor) else v, rtol=1e-4, atol=1e-6,
                                   err_msg=k)
    tg = tsd["param_groups"][0]
    g = sd["param_groups"][0]
    assert g["params"] == tg["params"] == [0, 1]
    for k in kw:
        assert g[k] == tg[k], k


@pytest.mark.parametrize("name,kw", [OPTIMIZERS[1], OPTIMIZERS[5], OPTIMIZERS[8], OPTIMIZERS[11]])
def test_param_groups_matches_torch(name, kw):
    (cw, cb, copt), (tw, tb, topt) = run_both(name, kw, steps=10, groups=True)
    assert len(copt.param_groups) == 2 and copt.param_groups[1]["lr"] == 0.003
    assert copt.param_groups[0]["lr"] == topt.param_groups[0]["lr"]
    np.testing.assert_allclose(cw.numpy(), tw.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(cb.numpy(), tb.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,kw", [OPTIMIZERS[2], OPTIMIZERS[5], OPTIMIZERS[8], OPTIMIZERS[11]])
def test_state_dict_resume_equals_uninterrupted(name, kw):
    w0, b0, xs = _problem()
    (cw, cb, copt), _ = run_both(name, kw, steps=25)
    pw, pb = cr.nn.Parameter(cr.tensor(w0)), cr.nn.Parameter(cr.tensor(b0))
    opt = getattr(cr.optim, name)([pw, pb], **kw)
    for x in xs[:10]:
        opt.zero_grad()
        _loss(pw, pb, cr.tensor(x), cr).backward()
        opt.step()
    state = opt.state_dict()
    qw, qb = cr.nn.Parameter(cr.tensor(pw.numpy().copy())), cr.nn.Parameter(cr.tensor(pb.numpy().copy()))
    opt2 = getattr(cr.optim, name)([qw, qb], **kw)
    opt2.load_state_dict(state)
    for x in xs[10:]:
        opt2.zero_grad()
        _loss(qw, qb, cr.tensor(x), cr).backward()
        opt2.step()
    np.testing.assert_allclose(qw.numpy(), cw.numpy(), rtol=1e-6, atol=1e-7)


def test_signatures_use_torch_names():
    o = cr.optim
    sgd = inspect.signature(o.SGD).parameters
    assert list(sgd)[:6] == ["params", "lr", "momentum", "dampening", "weight_decay", "nesterov"] or \
        {"params", "lr", "momentum", "dampening", "nesterov", "weight_decay"} <= set(sgd)
    assert sgd["momentum"].default == 0 and sgd["dampening"].default == 0 and sgd["nesterov"].default is False
    assert sgd["weight_decay"].default == 0
    for cls, names in ((o.Adam, ("lr", "betas", "eps", "weight_decay", "amsgrad")),
                       (o.AdamW, ("lr", "betas", "eps", "weight_decay", "amsgrad")),
                       (o.RMSprop, ("lr", "alpha", "eps", "weight_decay", "momentum", "centered"))):
        params = inspect.signature(cls).parameters
        tparams = inspect.signature(getattr(torch.optim, cls.__name__)).parameters
        for n in names:
            assert n in params, (cls.__name__, n)
            assert params[n].default == tparams[n].default, (cls.__name__, n, params[n].default)


def test_zero_grad_sets_none_by_default():
    p = cr.nn.Parameter(cr.ones(2))
    opt = cr.optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    opt.zero_grad()
    assert p.grad is None
    (p * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and not p.grad.numpy().any()
    opt.step()  # a zero gradient leaves p (no weight decay)
    np.testing.assert_array_equal(p.numpy(), [1, 1])
    q = cr.nn.Parameter(cr.ones(2))
    opt2 = cr.optim.Adam([p, q])
    (p * 2).sum().backward()
    opt2.step()  # q has no grad: skipped, as torch
    np.testing.assert_array_equal(q.numpy(), [1, 1])


SCHEDULERS = [
    ("StepLR", dict(step_size=3)), ("StepLR", dict(step_size=2, gamma=0.5)), ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=5)), ("CosineAnnealingLR", dict(T_max=4, eta_min=0.01)),
    ("LinearLR", dict()), ("LinearLR", dict(start_factor=0.25, end_factor=0.75, total_iters=4)),
]


@pytest.mark.parametrize("name,kw", SCHEDULERS, ids=[f"{n}-{k}" for n, k in SCHEDULERS])
def test_schedulers_match_torch(name, kw):
    p, tp = cr.nn.Parameter(cr.ones(1)), torch.nn.Parameter(torch.ones(1))
    opt = cr.optim.SGD([{"params": [p]}, {"params": [cr.nn.Parameter(cr.ones(1))], "lr": 0.02}], lr=0.1,
                       momentum=0.9)
    topt = torch.optim.SGD([{"params": [tp]}, {"params": [torch.nn.Parameter(torch.ones(1))], "lr": 0.02}], lr=0.1,
                           momentum=0.9)
    s = getattr(cr.optim.lr_scheduler, name)(opt, **kw)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    for _ in range(12):
        np.testing.assert_allclose(s.get_last_lr(), ts.get_last_lr(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose([g["lr"] for g in opt.param_groups], [g["lr"] for g in topt.param_groups],
                                   rtol=1e-12, atol=1e-15)
        opt.step()
        topt.step()
        s.step()
        ts.step()
    sd = s.state_dict()
    assert sd["last_epoch"] == ts.state_dict()["last_epoch"]
    s2 = getattr(cr.optim.lr_scheduler, name)(cr.optim.SGD([cr.nn.Parameter(cr.ones(1))], lr=0.1), **kw)
    s2.load_state_dict(sd)
    assert s2.last_epoch == s.last_epoch
