"""Every op of the table, from the table: gradients against central differences (float64) and
PyTorch, first and second order, on shapes drawn by hypothesis (broadcasting where the op allows).

The cases come from each entry's ``test=`` (see ops/registry.py), so an op cannot be added
without its test: ``test_every_op_has_a_case`` fails first.  Both rules of an op are checked:
the first-order one (``fast``, on arrays) through ``cr.grad`` and ``cr.gradcheck``, the
differentiable one (on Tensors) through ``create_graph=True``, first and second order.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
from chainrule.ops.registry import REGISTRY, Case


def cases_of(op) -> list:
    return [] if op.test is None else list(op.test) if isinstance(op.test, list) else [op.test]


CASES = [pytest.param(op, case, id=f"{name}-{i}") for name, op in sorted(REGISTRY.items())
         for i, case in enumerate(cases_of(op))]


def test_every_op_has_a_case():
    missing = sorted(name for name, op in REGISTRY.items() if not cases_of(op))
    assert not missing, f"ops without a test case (give their defop a test=Case(...)): {missing}"


@st.composite
def shapes_and_seed(draw, case: Case):
    if not isinstance(case.shapes, str):
        shapes = [tuple(s) for s in case.shapes]
    elif case.shapes == "same":
        shapes = [draw(hnp.array_shapes(min_dims=case.min_dims, max_dims=3, min_side=1, max_side=3))] * case.arity
    else:
        drawn = draw(hnp.mutually_broadcastable_shapes(num_shapes=case.arity, min_dims=case.min_dims, max_dims=3,
                                                       min_side=1, max_side=3))
        shapes = list(drawn.input_shapes)
    return shapes, draw(st.integers(0, 2**31 - 1))


def _values(case: Case, shape, rng):
    if case.away:  # kept away from 0, where the op has a kink or a pole
        mag = rng.uniform(case.away, max(abs(case.low), abs(case.high)), shape)
        return mag * (rng.choice([-1.0, 1.0], shape) if case.low < 0 else 1.0)
    return rng.uniform(case.low, case.high, shape)


def _close(c, t, what: str):
    c = np.zeros(0) if c is None else np.asarray(c.numpy() if isinstance(c, cr.Tensor) else c, np.float64)
    t = np.zeros(0) if t is None else t.detach().numpy(force=True).astype(np.float64)
    if c.size == 0 or t.size == 0:
        c, t = (np.zeros_like(t) if c.size == 0 else c), (np.zeros_like(c) if t.size == 0 else t)
    assert c.shape == t.shape, f"{what}: shape {c.shape}, PyTorch {t.shape}"
    np.testing.assert_allclose(c, t, rtol=1e-6, atol=1e-8, err_msg=what)


def _dot(grads, us):
    """Σ ⟨g, u⟩ over the gradients that depend on the inputs (None: no graph to follow)."""
    terms = [(g * u).sum() for g, u in zip(grads, us) if g is not None and g.requires_grad]
    if not terms:
        return None
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def check_op(op, case: Case, shapes, seed: int) -> None:
    """Raises AssertionError (or GradcheckError) where the op disagrees with differences or PyTorch."""
    call = case.call or getattr(cr.ops, op.name)
    rng = np.random.default_rng(seed)
    xs = [_values(case, s, rng) for s in shapes]
    cts = [cr.tensor(x, requires_grad=True) for x in xs]
    tts = [torch.tensor(x, requires_grad=True) for x in xs]
    out_c, out_t = call(*cts), case.torch(torch, *tts)
    _close(out_c, out_t, f"{op.name}: forward")
    v = rng.standard_normal(out_c.shape)
    vt = torch.from_numpy(v)
    gt = torch.autograd.grad(out_t, tts, vt, allow_unused=True, create_graph=True)
    # first order, the fast rule (arrays)
    gc = cr.grad(call(*cts), cts, cr.tensor(v), allow_unused=True)
    for i, (c, t) in enumerate(zip(gc, gt)):
        _close(c, t, f"{op.name}: first-order gradient of input {i} (fast rule)")
    if case.fd:
        assert cr.gradcheck(call, cts)
    # first order, the differentiable rule (Tensors)
    gc2 = cr.grad(call(*cts), cts, cr.tensor(v), allow_unused=True, create_graph=True)
    for i, (c, t) in enumerate(zip(gc2, gt)):
        _close(c, t, f"{op.name}: first-order gradient of input {i} (create_graph rule)")
    if not case.second:
        return
    # second order: the gradient of ⟨∇, u⟩, against PyTorch and against differences
    us = [rng.standard_normal(s) for s in shapes]
    zc = _dot(gc2, [cr.tensor(u) for u in us])
    zt = _dot(gt, [torch.from_numpy(u) for u in us])
    hc = cr.grad(zc, cts, allow_unused=True) if zc is not None else [None] * len(cts)
    ht = torch.autograd.grad(zt, tts, allow_unused=True) if zt is not None else [None] * len(tts)
    for i, (c, t) in enumerate(zip(hc, ht)):
        _close(c, t, f"{op.name}: second-order (Hessian-vector) of input {i}")
    if zc is not None and case.fd:
        def z():
            grads = cr.grad(call(*cts), cts, cr.tensor(v), allow_unused=True, create_graph=True)
            out = _dot(grads, [cr.tensor(u) for u in us])
            return 0.0 if out is None else out.item()

        for i, (c, x) in enumerate(zip(hc, cts)):
            np.testing.assert_allclose(np.zeros(x.shape) if c is None else c.numpy(), _differences(z, x.numpy()),
                                       rtol=1e-4, atol=1e-6, err_msg=f"{op.name}: second order, input {i}, "
                                                                     "against central differences")


def _differences(f, x, eps: float = 1e-6):
    """d f / d x by central differences, ``x`` changed in place and restored."""
    out = np.zeros(x.shape)
    for e in range(x.size):
        old = x.flat[e]
        x.flat[e] = old + eps
        plus = f()
        x.flat[e] = old - eps
        minus = f()
        x.flat[e] = old
        out.flat[e] = (plus - minus) / (2 * eps)
    return out


@pytest.mark.parametrize("op,case", CASES)
def test_op_against_differences_and_torch(op, case):
    fixed = not isinstance(case.shapes, str)

    @settings(max_examples=2 if fixed else 4, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(shapes_and_seed(case))
    def run(drawn):
        check_op(op, case, *drawn)

    run()


@pytest.mark.parametrize("rule", ["fast", "vjp"])
@pytest.mark.parametrize("name", ["mul", "tanh", "linear"])
def test_a_wrong_rule_on_either_path_is_caught(name, rule, monkeypatch):
    """The checks above catch a deliberately wrong VJP, in the first-order rule and in the
    differentiable one alike (so a wrong rule cannot hide on the path a test does not take)."""
    op = REGISTRY[name]
    right = getattr(op, rule)

    def wrong(F, g, x, y, kw, need):
        return tuple(None if gi is None else gi * 1.5 for gi in right(F, g, x, y, kw, need))

    case = cases_of(op)[0]
    shapes = [tuple(s) for s in case.shapes] if not isinstance(case.shapes, str) else [(2, 3)] * case.arity
    check_op(op, case, shapes, 0)  # right: passes
    if op.fast is op.vjp:  # one rule serves both paths: break it once
        monkeypatch.setattr(op, "fast", wrong)
        monkeypatch.setattr(op, "vjp", wrong)
    else:
        monkeypatch.setattr(op, rule, wrong)
    with pytest.raises((AssertionError, cr.GradcheckError)):
        check_op(op, case, shapes, 0)
