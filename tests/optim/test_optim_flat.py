"""The packed (flat) optimizer path: the optimizer's own state laid end to end, never the parameters;
the same trajectory as PyTorch, and PyTorch's semantics kept (arrays held elsewhere, replaced .data,
loaded state, missing grads, a second optimizer)."""
from __future__ import annotations

import weakref

import numpy as np
import pytest
import torch

import chainrule as cr

FAST = [("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.01)), ("AdamW", dict(lr=0.01, weight_decay=0.1))]
IDS = [n for n, _ in FAST]


def _models(seed: int = 0):
    torch.manual_seed(seed)
    tm = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    cm = cr.nn.Sequential(cr.nn.Linear(5, 7), cr.nn.ReLU(), cr.nn.Linear(7, 3))
    cm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return tm, cm


def _batch(i: int):
    rng = np.random.default_rng(100 + i)
    return rng.standard_normal((8, 5)).astype(np.float32), rng.integers(0, 3, 8)


def _step_torch(tm, opt, i, params=None):
    x, y = _batch(i)
    opt.zero_grad()
    torch.nn.functional.cross_entropy(tm(torch.from_numpy(x)), torch.from_numpy(y)).backward()
    if params is not None:  # keep only these parameters' gradients
        for j, p in enumerate(tm.parameters()):
            if j not in params:
                p.grad = None
    opt.step()


def _step_cr(cm, opt, i, params=None):
    x, y = _batch(i)
    opt.zero_grad()
    cr.nn.functional.cross_entropy(cm(cr.tensor(x)), cr.tensor(y)).backward()
    if params is not None:
        for j, p in enumerate(cm.parameters()):
            if j not in params:
                p.grad = None
    opt.step()


def _assert_same(tm, cm, rtol=2e-5, atol=2e-6):
    for (k, t), c in zip(tm.state_dict().items(), cm.state_dict().values()):
        np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=rtol, atol=atol, err_msg=k)


def _pair(name, kw):
    tm, cm = _models()
    return tm, cm, getattr(torch.optim, name)(tm.parameters(), **kw), getattr(cr.optim, name)(cm.parameters(), **kw)


def _train_both(tm, topt, cm, copt, steps, plan=None):
    """The same steps in both libraries; ``plan[i]`` keeps only those parameters' gradients."""
    for i in steps:
        only = plan[i] if plan is not None else None
        _step_torch(tm, topt, i, only)
        _step_cr(cm, copt, i, only)


@pytest.mark.parametrize("name,kw", FAST, ids=IDS)
def test_state_buffers_become_views_of_one_array_parameters_stay_and_follow_torch(name, kw):
    tm, cm, topt, copt = _pair(name, kw)
    arrays = [p.numpy() for p in cm.parameters()]
    _train_both(tm, topt, cm, copt, range(12))
    assert all(p.numpy() is a and a.base is None for p, a in zip(cm.parameters(), arrays))  # never moved
    for name_ in ("momentum_buffer", "exp_avg", "exp_avg_sq"):
        bufs = [copt.state[p][name_].numpy() for p in cm.parameters() if name_ in copt.state[p]]
        assert all(b.base is not None and b.base is bufs[0].base for b in bufs)
    # a state buffer takes its parameter's column-major layout inside the flat array
    first = next(iter(copt.state[cm[0].weight].values()))
    assert first.numpy().flags.f_contiguous or first.numpy().ndim == 0
    _assert_same(tm, cm)
    # the state buffers are per-parameter tensors of the right shape, equal to PyTorch's
    tsd, csd = topt.state_dict(), copt.state_dict()
    for i, st in tsd["state"].items():
        for k, v in st.items():
            assert csd["state"][i][k].shape == tuple(v.shape)
            np.testing.assert_allclose(csd["state"][i][k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


def test_an_array_held_elsewhere_sees_every_update():
    tm, cm, topt, copt = _pair("SGD", dict(lr=0.05, momentum=0.9))
    held = cm[0].weight.numpy()  # as in PyTorch, this array is the parameter's memory
    _train_both(tm, topt, cm, copt, range(5))
    assert cm[0].weight.numpy() is held
    np.testing.assert_allclose(held, tm[0].weight.detach().numpy(), rtol=2e-5, atol=2e-6)
    _assert_same(tm, cm)


@pytest.mark.parametrize("name,kw", FAST, ids=IDS)
def test_new_data_assigned_after_packing_is_the_one_updated(name, kw):
    tm, cm, topt, copt = _pair(name, kw)
    _train_both(tm, topt, cm, copt, range(3))
    # replace a parameter's array, in both libraries, by one the caller keeps
    new = np.full((3, 7), 0.25, np.float32)
    with torch.no_grad():
        tm[2].weight.data = torch.from_numpy(new.copy())
    cm[2].weight.data = new
    _train_both(tm, topt, cm, copt, range(3, 8))
    assert cm[2].weight.numpy() is new  # still the caller's array, updated in place
    _assert_same(tm, cm)


@pytest.mark.parametrize("name,kw", FAST, ids=IDS)
def test_a_step_with_some_gradients_missing_matches_torch(name, kw):
    tm, cm, topt, copt = _pair(name, kw)
    plan = [None, None, {0, 1}, None, {2, 3}, None, None]
    _train_both(tm, topt, cm, copt, range(len(plan)), plan)
    _assert_same(tm, cm)


@pytest.mark.parametrize("name,kw", FAST, ids=IDS)
def test_state_loaded_into_a_packed_optimizer_is_used(name, kw):
    tm, cm, topt, copt = _pair(name, kw)
    _train_both(tm, topt, cm, copt, range(4))
    # a second chainrule optimizer, already packed by a step of its own, takes over the first's state
    _, cm2 = _models(seed=3)
    other = getattr(cr.optim, name)(cm2.parameters(), **kw)
    _step_cr(cm2, other, 0)
    cm2.load_state_dict({k: v.numpy() for k, v in cm.state_dict().items()})
    other.load_state_dict(copt.state_dict())
    _train_both(tm, topt, cm2, other, range(4, 9))
    _assert_same(tm, cm2)


def test_adam_with_unequal_step_counts_takes_the_per_parameter_path_correctly():
    tm, cm, topt, copt = _pair("Adam", dict(lr=0.01))
    plan = [{0, 1}, None, None]
    _train_both(tm, topt, cm, copt, range(len(plan)), plan)
    assert [float(copt.state[p]["step"].numpy()) for p in cm.parameters()] == [3.0, 3.0, 2.0, 2.0]
    _assert_same(tm, cm)
    _train_both(tm, topt, cm, copt, range(3, 6))  # every gradient present, counts still unequal
    _assert_same(tm, cm)


@pytest.mark.parametrize("name,kw", FAST, ids=IDS)
def test_a_group_above_the_size_limit_is_left_as_it_is(name, kw, monkeypatch):
    from chainrule.optim import flat

    tm, cm, topt, copt = _pair(name, kw)
    total = sum(p.numpy().size for p in cm.parameters())
    monkeypatch.setattr(flat, "MAX_PACKED", total - 1)
    arrays = [weakref.ref(p.numpy()) for p in cm.parameters()]  # (a weak reference leaves them packable)
    _train_both(tm, topt, cm, copt, range(6))
    assert all(p.numpy() is a() for p, a in zip(cm.parameters(), arrays))  # updated in place, never moved
    _assert_same(tm, cm)


def test_two_optimizers_over_the_same_parameters_both_update_them():
    """Packing is the optimizer's own business: a second optimizer is no different from the first."""
    tm, cm = _models()
    t1, t2 = torch.optim.SGD(tm.parameters(), lr=0.05, momentum=0.9), torch.optim.Adam(tm.parameters(), lr=0.01)
    c1, c2 = cr.optim.SGD(cm.parameters(), lr=0.05, momentum=0.9), cr.optim.Adam(cm.parameters(), lr=0.01)
    for i in range(4):
        for topt, copt in ((t1, c1), (t2, c2)):
            _step_torch(tm, topt, i)
            _step_cr(cm, copt, i)
    _assert_same(tm, cm)
