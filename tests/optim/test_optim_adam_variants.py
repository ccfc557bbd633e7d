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
