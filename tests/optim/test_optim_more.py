"""Adagrad, Adadelta, per-group options, OneCycleLR, SequentialLR and ReduceLROnPlateau against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from test_optim_optimizers import STEPS, _assert_same, _batches, _models, _train_cr, _train_torch

import chainrule as cr

VARIANTS = [
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-8)),
    ("Adagrad", dict(lr=0.05, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.01)),
    ("Adadelta", dict(lr=0.5, maximize=True)),
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


@pytest.mark.parametrize("name", ["SGD", "Adam", "Adagrad", "RMSprop"])
def test_per_group_options_match_torch(name):
    tm, cm = _models()

    def groups(m):
        first, last = list(m[0].parameters()), list(m[2].parameters())
        extra = {"momentum": 0.9} if name in ("SGD", "RMSprop") else {}
        return [{"params": first, "lr": 0.02, "weight_decay": 0.1, **extra}, {"params": last}]

    topt = getattr(torch.optim, name)(groups(tm), lr=0.005)
    copt = getattr(cr.optim, name)(groups(cm), lr=0.005)
    assert [g["lr"] for g in copt.param_groups] == [0.02, 0.005]
    batches = _batches(10)
    _train_torch(tm, topt, batches)
    _train_cr(cm, copt, batches)
    _assert_same(tm, cm)


def test_adagrad_state_exists_before_the_first_step_as_in_torch():
    _, cm = _models()
    opt = cr.optim.Adagrad(cm.parameters(), initial_accumulator_value=0.5)
    st = opt.state_dict()["state"]
    assert sorted(st) == [0, 1, 2, 3] and float(st[0]["sum"].numpy().min()) == 0.5


def _lr_pair(opt_name="SGD", opt_kw=None, groups=1):
    opt_kw = opt_kw or {"lr": 0.1, "momentum": 0.9}
    tps = [torch.nn.Parameter(torch.zeros(2)) for _ in range(groups)]
    cps = [cr.nn.Parameter(cr.zeros(2)) for _ in range(groups)]
    topt = getattr(torch.optim, opt_name)([{"params": [p]} for p in tps], **opt_kw)
    copt = getattr(cr.optim, opt_name)([{"params": [p]} for p in cps], **opt_kw)
    return topt, copt


def _run(tsched, csched, topt, copt, n, metrics=None):
    t_seq, c_seq = [], []
    for i in range(n):
        topt.step()
        copt.step()
        if metrics is None:
            tsched.step()
            csched.step()
        else:
            tsched.step(metrics[i])
            csched.step(metrics[i])
        t_seq.append([g["lr"] for g in topt.param_groups] + [g.get("momentum", g.get("betas", (0,))[0])
                                                              for g in topt.param_groups])
        c_seq.append([g["lr"] for g in copt.param_groups] + [g.get("momentum", g.get("betas", (0,))[0])
                                                              for g in copt.param_groups])
    np.testing.assert_allclose(c_seq, t_seq, rtol=1e-12, atol=1e-15)
    assert len({round(s[0], 12) for s in c_seq}) > 1  # the schedule actually moved
    return c_seq


@pytest.mark.parametrize("kw", [dict(max_lr=1.0, total_steps=20), dict(max_lr=[0.5, 2.0], epochs=4, steps_per_epoch=5,
                                                                        anneal_strategy="linear", pct_start=0.4),
                                dict(max_lr=1.0, total_steps=30, three_phase=True, div_factor=10)])
@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_one_cycle_lr_and_momentum_match_torch(kw, opt):
    topt, copt = _lr_pair(opt, {"lr": 0.1}, groups=2)
    ts = torch.optim.lr_scheduler.OneCycleLR(topt, **kw)
    cs = cr.optim.lr_scheduler.OneCycleLR(copt, **kw)
    total = kw.get("total_steps") or kw["epochs"] * kw["steps_per_epoch"]
    _run(ts, cs, topt, copt, total - 1)
    with pytest.raises(ValueError, match="total steps"):
        cs.step(), cs.step()


def test_one_cycle_needs_a_momentum():
    p = cr.nn.Parameter(cr.zeros(1))
    with pytest.raises(ValueError, match="momentum or beta1"):
        cr.optim.lr_scheduler.OneCycleLR(cr.optim.Adagrad([p]), max_lr=1.0, total_steps=5)


def test_sequential_lr_warmup_then_cosine_matches_torch():
    topt, copt = _lr_pair()

    def build(lib, opt):
        s = lib.optim.lr_scheduler
        return s.SequentialLR(opt, [s.LinearLR(opt, start_factor=0.1, total_iters=4),
                                    s.CosineAnnealingLR(opt, T_max=10), s.StepLR(opt, 3, 0.5)], milestones=[4, 14])

    ts, cs = build(torch, topt), build(cr, copt)
    assert cs.get_last_lr() == pytest.approx(ts.get_last_lr())
    _run(ts, cs, topt, copt, 24)
    state = cs.state_dict()
    topt2, copt2 = _lr_pair()
    cs2 = build(cr, copt2)
    cs2.load_state_dict(state)
    assert cs2.last_epoch == cs.last_epoch and cs2._schedulers[1].last_epoch == cs._schedulers[1].last_epoch


@pytest.mark.parametrize("kw", [dict(), dict(mode="max", factor=0.5, patience=1, cooldown=2, threshold_mode="abs",
                                             threshold=0.05, min_lr=0.01)])
def test_reduce_lr_on_plateau_matches_torch(kw):
    topt, copt = _lr_pair(groups=2)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    cs = cr.optim.lr_scheduler.ReduceLROnPlateau(copt, **kw)
    metrics = list(np.r_[np.linspace(1.0, 0.5, 5), np.full(40, 0.5), np.linspace(0.5, 0.8, 5)])
    if kw.get("mode") == "max":
        metrics = [1 - m + 0.01 * (i % 3) for i, m in enumerate(metrics)]
    _run(ts, cs, topt, copt, len(metrics), metrics=metrics)
    assert cs.get_last_lr() == ts.get_last_lr()


@pytest.mark.parametrize("name, kw", [
    ("ConstantLR", dict(factor=0.5, total_iters=4)),
    ("PolynomialLR", dict(total_iters=8, power=2.0)),
    ("PolynomialLR", dict()),
    ("CosineAnnealingWarmRestarts", dict(T_0=3)),
    ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=2, eta_min=0.01)),
])
def test_more_schedules_match_torch(name, kw):
    topt, copt = _lr_pair()
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    cs = getattr(cr.optim.lr_scheduler, name)(copt, **kw)
    assert cs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
    _run(ts, cs, topt, copt, 20)


def test_chained_scheduler_multiplies_factors_like_torch():
    topt, copt = _lr_pair()

    def build(lib, opt):
        s = lib.optim.lr_scheduler
        return s.ChainedScheduler([s.ConstantLR(opt, factor=0.2, total_iters=3), s.ExponentialLR(opt, gamma=0.9)])

    ts, cs = build(torch, topt), build(cr, copt)
    _run(ts, cs, topt, copt, 10)


def test_warm_restarts_with_an_epoch_argument_match_torch():
    topt, copt = _lr_pair()
    ts = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, T_0=2, T_mult=2)
    cs = cr.optim.lr_scheduler.CosineAnnealingWarmRestarts(copt, T_0=2, T_mult=2)
    for e in (0.5, 1.0, 2.25, 5.0, 9.5):
        ts.step(e)
        cs.step(e)
        assert cs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)


def test_new_schedulers_state_dicts_resume_and_refuse_strange_keys(tmp_path):
    import json

    def fresh():
        _, copt = _lr_pair(groups=2)
        s = cr.optim.lr_scheduler
        return copt, {
            "one": s.OneCycleLR(copt, max_lr=1.0, total_steps=30),
            "plateau": s.ReduceLROnPlateau(copt, patience=1),
            "chain": s.ChainedScheduler([s.ConstantLR(copt, factor=0.5), s.ExponentialLR(copt, gamma=0.9)]),
        }

    copt, scheds = fresh()
    for _ in range(5):
        scheds["one"].step()
        scheds["plateau"].step(1.0)
        scheds["chain"].step()
    for name, sch in scheds.items():
        state = json.loads(json.dumps(sch.state_dict()))  # plain data: a checkpoint can hold it
        _, again = fresh()
        again[name].load_state_dict(state)
        assert again[name].state_dict() == sch.state_dict(), name
        with pytest.raises(cr.optim.OptimizerStateError, match="unknown keys"):
            again[name].load_state_dict({**state, "get_lr": 1})
