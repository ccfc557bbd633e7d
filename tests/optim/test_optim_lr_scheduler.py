"""Learning-rate schedules: the sequences equal PyTorch's, and state dicts resume them."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr

CASES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("StepLR", dict(step_size=1)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7)),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.8, total_iters=6)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.0, total_iters=10)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 11], gamma=0.5)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e / (1 + e % 3))),
]


def _pair(name, kw, lr=0.3, opt="SGD"):
    tp = torch.nn.Parameter(torch.zeros(2))
    cp = cr.nn.Parameter(cr.zeros(2))
    topt = getattr(torch.optim, opt)([{"params": [tp]}], lr=lr)
    copt = getattr(cr.optim, opt)([{"params": [cp]}], lr=lr)
    return (getattr(torch.optim.lr_scheduler, name)(topt, **kw), getattr(cr.optim.lr_scheduler, name)(copt, **kw),
            topt, copt)


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_sequence_matches_torch(name, kw):
    ts, cs, topt, copt = _pair(name, kw)
    t_seq, c_seq = [], []
    for _ in range(25):  # past T_max: the cosine goes back up, as PyTorch's does
        t_seq.append(ts.get_last_lr()[0])
        c_seq.append(cs.get_last_lr()[0])
        assert copt.param_groups[0]["lr"] == c_seq[-1]
        topt.step()
        copt.step()
        ts.step()
        cs.step()
    np.testing.assert_allclose(c_seq, t_seq, rtol=1e-12, atol=1e-15)
    assert cs.last_epoch == ts.last_epoch == 25
    assert len(set(np.round(c_seq, 12))) > 1


def test_two_groups_and_adam():
    tp, tq = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    cp, cq = cr.nn.Parameter(cr.zeros(1)), cr.nn.Parameter(cr.zeros(1))
    topt = torch.optim.Adam([{"params": [tp]}, {"params": [tq], "lr": 0.1}], lr=0.01)
    copt = cr.optim.Adam([{"params": [cp]}, {"params": [cq], "lr": 0.1}], lr=0.01)
    ts = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=4)
    cs = cr.optim.lr_scheduler.CosineAnnealingLR(copt, T_max=4)
    for _ in range(9):
        np.testing.assert_allclose(cs.get_last_lr(), ts.get_last_lr(), rtol=1e-12)
        topt.step()
        copt.step()
        ts.step()
        cs.step()
    assert cs.base_lrs == ts.base_lrs == [0.01, 0.1]


@pytest.mark.parametrize("name,kw", [CASES[0], CASES[3], CASES[6]], ids=["StepLR", "Cosine", "LinearLR"])
def test_state_dict_resumes_the_schedule(name, kw):
    _, cs, _, copt = _pair(name, kw)
    for _ in range(4):
        cs.step()
    state = cs.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 4
    rest = []
    for _ in range(6):
        cs.step()
        rest.append(cs.get_last_lr()[0])
    _, cs2, _, copt2 = _pair(name, kw)
    copt2.param_groups[0]["lr"] = state["_last_lr"][0]
    cs2.load_state_dict(state)
    resumed = []
    for _ in range(6):
        cs2.step()
        resumed.append(cs2.get_last_lr()[0])
    assert resumed == rest


def test_state_dict_keys_match_torch():
    ts, cs, _, _ = _pair("StepLR", dict(step_size=3))
    assert set(cs.state_dict()) <= set(ts.state_dict())
    for k in ("step_size", "gamma", "base_lrs", "last_epoch", "_step_count", "_last_lr"):
        assert cs.state_dict()[k] == ts.state_dict()[k]


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="not a cr.optim.Optimizer"):
        cr.optim.lr_scheduler.StepLR(object(), 2)


def test_zero_period_is_refused_at_construction():
    """PyTorch accepts these and raises ZeroDivisionError at the first step()."""
    opt = cr.optim.SGD([cr.nn.Parameter(cr.ones(1))], lr=0.1)
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive number of epochs, got 0"):
        cr.optim.lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="CosineAnnealingLR: T_max must be a positive number of epochs, got 0"):
        cr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    assert opt.param_groups[0]["lr"] == 0.1


def test_lambda_lr_state_dict_leaves_the_functions_out():
    _, cs, _, _ = _pair("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (e + 1)))
    cs.step()
    state = cs.state_dict()
    assert "lr_lambdas" not in state and state["last_epoch"] == 1
