"""Adamax, NAdam, RAdam and the CyclicLR / MultiplicativeLR schedules against PyTorch: whole training
trajectories, state-dict names (loadable by torch), options and bad arguments."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from test_optim_more import _lr_pair, _run
from test_optim_optimizers import STEPS, _assert_same, _batches, _models, _train_cr, _train_torch

import chainrule as cr

VARIANTS = [
    ("Adamax", dict()), ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, maximize=True)),
    ("NAdam", dict()), ("NAdam", dict(lr=0.01, momentum_decay=0.01, weight_decay=0.05)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict()), ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.05)),  # ρₜ > 5 from step 6
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.95), weight_decay=0.1, decoupled_weight_decay=True)),
]


@pytest.mark.parametrize("name,kw", VARIANTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VARIANTS)])
def test_trajectory_matches_torch(name, kw):
    tm, cm = _models()
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    copt = getattr(cr.optim, name)(cm.parameters(), **kw)
    batches = _batches(STEPS)
    _train_torch(tm, topt, batches)
    _train_cr(cm, copt, batches)
    _assert_same(tm, cm)
    _, fresh = _models()
    assert max(np.abs(a.numpy() - b.numpy()).max()
               for a, b in zip(cm.state_dict().values(), fresh.state_dict().values())) > 1e-3


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam"])
def test_state_dict_has_torchs_names_and_resumes_torch(name):
    tm, cm = _models()
    topt = getattr(torch.optim, name)(tm.parameters(), lr=0.01)
    copt = getattr(cr.optim, name)(cm.parameters(), lr=0.01)
    batches = _batches(8)
    _train_torch(tm, topt, batches[:4])
    _train_cr(cm, copt, batches[:4])
    cs, ts = copt.state_dict(), topt.state_dict()
    assert {k: sorted(v) for k, v in cs["state"].items()} == {k: sorted(v) for k, v in ts["state"].items()}
    assert set(ts["param_groups"][0]) >= set(cs["param_groups"][0])
    # chainrule's state loaded into a fresh chainrule optimizer continues exactly as torch does
    _, cm2 = _models()
    cm2.load_state_dict(cm.state_dict())
    copt2 = getattr(cr.optim, name)(cm2.parameters(), lr=0.01)
    copt2.load_state_dict(cs)
    _train_torch(tm, topt, batches[4:])
    _train_cr(cm2, copt2, batches[4:])
    _assert_same(tm, cm2)


@pytest.mark.parametrize("call,match", [
    (lambda p: cr.optim.Adamax(p, lr=-1), "learning rate must be >= 0"),
    (lambda p: cr.optim.NAdam(p, betas=(0.9, 1.0)), "invalid beta parameter at index 1"),
    (lambda p: cr.optim.NAdam(p, momentum_decay=-1), "momentum_decay must be >= 0"),
    (lambda p: cr.optim.RAdam(p, eps=-1e-8), "eps"),
])
def test_bad_options_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call([cr.nn.Parameter(cr.zeros(2))])


@pytest.mark.parametrize("kw", [
    dict(base_lr=0.01, max_lr=0.1, step_size_up=4),
    dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, step_size_down=5, mode="triangular2"),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.9),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=lambda x: 0.5 ** x, scale_mode="iterations"),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=2, cycle_momentum=False),
])
@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_cyclic_lr_and_momentum_match_torch(kw, opt):
    topt, copt = _lr_pair(opt, {"lr": 0.1, "momentum": 0.9} if opt == "SGD" else {"lr": 0.1}, groups=2)
    ts = torch.optim.lr_scheduler.CyclicLR(topt, **kw)
    cs = cr.optim.lr_scheduler.CyclicLR(copt, **kw)
    assert cs.get_last_lr() == pytest.approx(ts.get_last_lr())
    _run(ts, cs, topt, copt, 20)
    assert "_scale_fn_custom" not in cs.state_dict()


def test_cyclic_lr_needs_a_momentum():
    p = cr.nn.Parameter(cr.zeros(1))
    with pytest.raises(ValueError, match="momentum or beta1"):
        cr.optim.lr_scheduler.CyclicLR(cr.optim.Adagrad([p]), 0.01, 0.1)
    with pytest.raises(ValueError, match="mode 'zigzag' is invalid"):
        cr.optim.lr_scheduler.CyclicLR(cr.optim.SGD([p], lr=0.1, momentum=0.9), 0.01, 0.1, mode="zigzag")


def test_multiplicative_lr_matches_torch():
    topt, copt = _lr_pair(groups=2)
    fns = [lambda e: 0.9, lambda e: 1.0 - 0.01 * e]
    ts = torch.optim.lr_scheduler.MultiplicativeLR(topt, fns)
    cs = cr.optim.lr_scheduler.MultiplicativeLR(copt, fns)
    _run(ts, cs, topt, copt, 12)
    assert "lr_lambdas" not in cs.state_dict()
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        cr.optim.lr_scheduler.MultiplicativeLR(copt, fns * 2)


def _closure_steps(lib, model, opt, batches):
    losses = []
    for x, y in batches:
        def closure(x=x, y=y):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            return loss
        losses.append(float(opt.step(closure).detach()))
    return losses


@pytest.mark.parametrize("kw", [dict(lr=1.0, max_iter=3), dict(lr=0.5, max_iter=5, history_size=3),
                                dict(lr=0.1, max_iter=4, max_eval=3), dict(line_search_fn="strong_wolfe", max_iter=1),
                                dict(line_search_fn="strong_wolfe", max_iter=3),
                                dict(max_iter=4, history_size=4, line_search_fn="strong_wolfe")])
def test_lbfgs_trajectory_matches_torch(kw):
    tm, cm = _models()
    topt, copt = torch.optim.LBFGS(tm.parameters(), **kw), cr.optim.LBFGS(cm.parameters(), **kw)
    batches = _batches(1) * 3  # one batch, as L-BFGS is used (full-batch): the trajectory is well conditioned
    tl, cl = _closure_steps(torch, tm, topt, batches), _closure_steps(cr, cm, copt, batches)
    np.testing.assert_allclose(cl, tl, rtol=1e-4, atol=1e-6)
    _assert_same(tm, cm, rtol=1e-3, atol=1e-4)  # float32 dot products summed in another order
    ts, cs = topt.state_dict()["state"][0], copt.state_dict()["state"][0]
    assert cs["func_evals"] == ts["func_evals"] and cs["n_iter"] == ts["n_iter"]
    assert len(cs["old_dirs"]) == len(ts["old_dirs"])


def test_lbfgs_state_dict_round_trip_and_refusals():
    _, cm = _models()
    opt = cr.optim.LBFGS(cm.parameters(), max_iter=3)
    _closure_steps(cr, cm, opt, _batches(1))
    opt2 = cr.optim.LBFGS(cm.parameters(), max_iter=3)
    opt2.load_state_dict(opt.state_dict())
    assert len(opt2.state[next(cm.parameters())]["old_dirs"]) == len(opt.state[next(cm.parameters())]["old_dirs"])
    with pytest.raises(ValueError, match="needs a closure"):
        opt.step()
    with pytest.raises(ValueError, match="None or 'strong_wolfe'"):
        cr.optim.LBFGS(cm.parameters(), line_search_fn="armijo")
    bad = opt.state_dict()
    bad["state"][0]["d"] = cr.zeros(3)
    with pytest.raises(cr.optim.OptimizerStateError, match="expected a vector of"):
        opt2.load_state_dict(bad)
