"""Optimizers against PyTorch: same initial weights and batches -> same parameters after 25 steps."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import chainrule as cr

STEPS = 25

VARIANTS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001)),
    ("SGD", dict(lr=0.05, weight_decay=0.1, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.3)),
    ("RMSprop", dict(lr=0.005, centered=True, eps=1e-4)),
]


def _models(seed: int = 0):
    torch.manual_seed(seed)
    tm = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4))
    cm = cr.nn.Sequential(cr.nn.Linear(6, 16), cr.nn.Tanh(), cr.nn.Linear(16, 4))
    cm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return tm, cm


def _batches(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((10, 6)).astype(np.float32), rng.integers(0, 4, 10)) for _ in range(n)]


def _train_torch(tm, opt, batches):
    for x, y in batches:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(tm(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()


def _train_cr(cm, opt, batches):
    for x, y in batches:
        opt.zero_grad()
        cr.nn.functional.cross_entropy(cm(cr.tensor(x)), cr.tensor(y)).backward()
        opt.step()


def _assert_same(tm, cm, rtol=2e-5, atol=2e-6):
    ts = tm.state_dict()
    for k, v in cm.state_dict().items():
        assert v.dtype == np.float32, k
        np.testing.assert_allclose(v.numpy(), ts[k].numpy(), rtol=rtol, atol=atol, err_msg=k)


@pytest.mark.parametrize("name,kw", VARIANTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VARIANTS)])
def test_trajectory_matches_torch(name, kw):
    tm, cm = _models()
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    copt = getattr(cr.optim, name)(cm.parameters(), **kw)
    batches = _batches(STEPS)
    _train_torch(tm, topt, batches)
    _train_cr(cm, copt, batches)
    _assert_same(tm, cm)
    # the trajectory moved: an optimizer that did nothing would not pass this
    _, fresh = _models()
    moved = max(np.abs(a.numpy() - b.numpy()).max() for a, b in zip(cm.state_dict().values(),
                                                                      fresh.state_dict().values()))
    assert moved > 1e-3


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
                                     ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
                                     ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
                                     ("RMSprop", dict(lr=0.005, centered=True, momentum=0.3))],
                         ids=["SGD", "Adam", "AdamW", "RMSprop"])
def test_state_dict_round_trip_continues_identically(name, kw):
    tm, cm = _models()
    batches = _batches(20)
    copt = getattr(cr.optim, name)(cm.parameters(), **kw)
    _train_cr(cm, copt, batches[:10])
    saved_model = {k: v.numpy().copy() for k, v in cm.state_dict().items()}
    saved_opt = copy.deepcopy(copt.state_dict())  # like PyTorch's, it references live buffers
    _train_cr(cm, copt, batches[10:])
    # a fresh model and optimizer resumed from the snapshot
    _, cm2 = _models(seed=5)
    cm2.load_state_dict(saved_model)
    copt2 = getattr(cr.optim, name)(cm2.parameters(), **kw)
    copt2.load_state_dict(saved_opt)
    _train_cr(cm2, copt2, batches[10:])
    for (k, a), b in zip(cm.state_dict().items(), cm2.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    # and it agrees with PyTorch running all 20 steps
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    _train_torch(tm, topt, batches)
    _assert_same(tm, cm2)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)),
                                     ("AdamW", dict(lr=0.01)), ("RMSprop", dict(lr=0.005, centered=True, eps=1e-4))],
                         ids=["SGD", "Adam", "AdamW", "RMSprop"])
def test_state_dict_layout_matches_torch(name, kw):
    tm, cm = _models()
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    copt = getattr(cr.optim, name)(cm.parameters(), **kw)
    batches = _batches(2)
    _train_torch(tm, topt, batches)
    _train_cr(cm, copt, batches)
    tsd, csd = topt.state_dict(), copt.state_dict()
    assert sorted(csd["state"]) == sorted(tsd["state"]) == [0, 1, 2, 3]
    for i in tsd["state"]:
        assert sorted(csd["state"][i]) == sorted(tsd["state"][i])
        for k, v in tsd["state"][i].items():
            np.testing.assert_allclose(csd["state"][i][k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6)
    assert csd["param_groups"][0]["params"] == tsd["param_groups"][0]["params"]
    for k in ("lr", "weight_decay", "maximize"):
        assert csd["param_groups"][0][k] == tsd["param_groups"][0][k]


def test_torch_optimizer_state_loads_into_chainrule():
    tm, cm = _models()
    kw = dict(lr=0.01, betas=(0.8, 0.99))
    topt, copt = torch.optim.Adam(tm.parameters(), **kw), cr.optim.Adam(cm.parameters(), **kw)
    batches = _batches(12)
    _train_torch(tm, topt, batches[:6])
    cm.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    copt.load_state_dict(topt.state_dict())
    _train_torch(tm, topt, batches[6:])
    _train_cr(cm, copt, batches[6:])
    _assert_same(tm, cm)


def test_param_groups_with_their_own_lr():
    tm, cm = _models()
    topt = torch.optim.SGD([{"params": tm[0].parameters()}, {"params": tm[2].parameters(), "lr": 0.5}],
                           lr=0.05, momentum=0.9)
    copt = cr.optim.SGD([{"params": cm[0].parameters()}, {"params": cm[2].parameters(), "lr": 0.5}],
                        lr=0.05, momentum=0.9)
    assert [g["lr"] for g in copt.param_groups] == [0.05, 0.5]
    batches = _batches(20)
    _train_torch(tm, topt, batches)
    _train_cr(cm, copt, batches)
    _assert_same(tm, cm)
    assert copt.state_dict()["param_groups"][1]["params"] == [2, 3]


def test_add_param_group_and_duplicates():
    a = cr.nn.Parameter(cr.zeros(2))
    b = cr.nn.Parameter(cr.zeros(3))
    opt = cr.optim.SGD([a], lr=0.1)
    opt.add_param_group({"params": [b], "momentum": 0.5})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["momentum"] == 0.5
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        cr.optim.Adam([])


def test_updates_stay_float32_and_in_place():
    for name in ("SGD", "Adam", "AdamW", "RMSprop"):
        p = cr.nn.Parameter(cr.ones(3))
        arr = p.numpy()
        opt = getattr(cr.optim, name)([p], lr=np.float64(0.1), weight_decay=0.1)
        for _ in range(3):
            (p * p).sum().backward()
            opt.step()
            opt.zero_grad()
        assert p.numpy() is arr and p.dtype == np.float32
        assert p.grad is None
        assert all(v.dtype == np.float32 for v in opt.state[p].values())
        assert (p.numpy() < 1).all()


def test_zero_grad_set_to_none_false_keeps_zero_arrays():
    p = cr.nn.Parameter(cr.ones(3))
    (p * 2).sum().backward()
    opt = cr.optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), np.zeros(3, np.float32))


def test_invalid_hyperparameters():
    p = [cr.nn.Parameter(cr.ones(1))]
    with pytest.raises(ValueError, match="Nesterov"):
        cr.optim.SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta"):
        cr.optim.Adam(p, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="learning rate"):
        cr.optim.RMSprop(p, lr=-1)
    for cls in (cr.optim.Adam, cr.optim.AdamW):  # a 1-tuple failed only at the first step()
        with pytest.raises(ValueError, match=r"betas must be a pair \(beta1, beta2\), got \(0.9,\)"):
            cls(p, betas=(0.9,))


def test_load_state_dict_mismatch_is_clear():
    a, b = cr.nn.Parameter(cr.ones(2)), cr.nn.Parameter(cr.ones(3))
    opt = cr.optim.Adam([a, b])
    other = cr.optim.Adam([a])
    with pytest.raises(cr.optim.OptimizerStateError, match="has 1 parameters"):
        opt.load_state_dict(other.state_dict())
    for bad in ({}, {"state": {}}, [other.state_dict()]):  # was a KeyError / TypeError from inside
        with pytest.raises(cr.optim.OptimizerStateError, match="keys 'state' and 'param_groups'"):
            opt.load_state_dict(bad)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_float64_parameters_follow_torch_in_float64(name):
    kw = dict(lr=0.01, weight_decay=0.01) if name != "SGD" else dict(lr=0.05, momentum=0.9, nesterov=True)
    tm, cm = _models()
    tm.double()
    cm.double()
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    copt = getattr(cr.optim, name)(cm.parameters(), **kw)
    for x, y in _batches(20):
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tm(torch.from_numpy(x).double()), torch.from_numpy(y)).backward()
        topt.step()
        copt.zero_grad()
        cr.nn.functional.cross_entropy(cm(cr.tensor(x).double()), cr.tensor(y)).backward()
        copt.step()
    ts = tm.state_dict()
    for k, v in cm.state_dict().items():
        assert v.dtype == np.float64
        np.testing.assert_allclose(v.numpy(), ts[k].numpy(), rtol=1e-10, atol=1e-12, err_msg=k)
