"""The backward engine: depth, accumulation, reuse, retain_graph, grad modes, hooks, cr.grad, memory."""
from __future__ import annotations

import gc
import sys
import weakref

import numpy as np
import pytest
import torch
from helpers import arrays_from_seed
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr


def test_100k_op_chain_backward_without_recursion_limit():
    limit = sys.getrecursionlimit()
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y * 1.00001
        y = y - 0.5
    assert y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.00001 ** 50_000] * 2, rtol=1e-9)
    assert sys.getrecursionlimit() == limit
    del y  # freeing a 100k-deep graph must not overflow the C stack either
    z = x
    for _ in range(100_000):
        z = z + 1.0
    del z


def test_gradients_accumulate_across_backward_calls():
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    first = x.grad
    np.testing.assert_array_equal(first.numpy(), [2.0, -4.0])
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, -1.0])
    assert isinstance(x.grad, cr.Tensor) and x.grad.dtype == np.float32
    assert not x.grad.requires_grad
    x.grad = None
    x.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_node_reused_many_times_matches_torch():
    a = arrays_from_seed(0, [(3,)])[0]

    def f(x):
        h = x * x
        out = h
        for i in range(20):
            out = out + h * (i + 1) + h.tanh() * out.sin()
        return (h * out).sum() + h.sum()

    cx, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    f(cx).backward()
    f(tx).backward()
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-10)


def test_diamond_and_shared_leaves():
    x = cr.tensor(2.0, requires_grad=True)
    a, b = x * 3, x * x
    (a * b + a + b).backward()  # d/dx (3x^3 + 3x + x^2) = 9x^2 + 3 + 2x
    assert x.grad.item() == pytest.approx(9 * 4 + 3 + 4)


def test_second_backward_without_retain_graph_raises_clear_error():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(cr.AutogradError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward_and_accumulates():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1, rtol=1e-6)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * g1, rtol=1e-6)
    with pytest.raises(cr.AutogradError, match="second time"):
        y.backward()


def test_no_grad_and_enable_grad_as_contexts():
    x = cr.tensor([1.0], requires_grad=True)
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        y = x * 2
        with cr.enable_grad():
            assert cr.is_grad_enabled()
            z = x * 2
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None and z.requires_grad
    with cr.set_grad_enabled(False):
        assert (x + 1).grad_fn is None
    with pytest.raises(KeyError):
        with cr.no_grad():
            raise KeyError("inside no_grad")
    assert cr.is_grad_enabled()  # restored even after an exception


def test_no_grad_and_enable_grad_as_decorators():
    x = cr.tensor([1.0], requires_grad=True)

    @cr.no_grad()
    def off(t):
        assert not cr.is_grad_enabled()
        return t * 2

    @cr.enable_grad()
    def on(t):
        return t * 2

    assert off.__name__ == "off"
    assert not off(x).requires_grad
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert on(x).requires_grad
        assert not cr.is_grad_enabled()


def test_detach_shares_values_and_cuts_history():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    assert np.shares_memory(d.numpy(), y.numpy())
    (d * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])  # d is a constant


def test_retain_grad_keeps_non_leaf_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    k = h * h
    (k.sum()).backward()
    np.testing.assert_array_equal(h.grad.numpy(), [6.0, 12.0])
    assert k.grad is None and not k.is_leaf
    np.testing.assert_array_equal(x.grad.numpy(), [18.0, 36.0])
    assert not np.shares_memory(h.grad.numpy(), x.grad.numpy())
    z = cr.tensor([1.0, 2.0], requires_grad=True)
    u = z + 1  # add passes its gradient through unchanged: the two .grad must still not share memory
    u.retain_grad()
    (u * 2).sum().backward()
    assert not np.shares_memory(u.grad.numpy(), z.grad.numpy())


def test_hooks_on_leaf_and_non_leaf_can_modify_gradient_like_torch():
    a = np.array([1.0, -2.0, 3.0])
    results = []
    for lib in (cr, torch):
        x = lib.tensor(a, requires_grad=True)
        seen = []
        x.register_hook(lambda g: g * 10)
        h = x * x
        h.register_hook(lambda g, seen=seen: seen.append(g.numpy().copy()) or g + 1)
        (h * 2).sum().backward()
        results.append((x.grad.numpy().copy(), seen[0]))
    (cg, cseen), (tg, tseen) = results
    np.testing.assert_array_equal(cseen, tseen)  # the non-leaf hook saw the unmodified gradient
    np.testing.assert_allclose(cg, tg)
    np.testing.assert_allclose(cg, (2 + 1) * 2 * a * 10)


def test_hook_returning_none_keeps_gradient_and_remove_works():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    x.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    handle.remove()
    x.sum().backward()
    assert len(calls) == 1
    with pytest.raises(cr.AutogradError, match="hook"):
        cr.tensor([1.0]).register_hook(lambda g: g)


def test_grad_returns_tuple_and_leaves_dot_grad_alone():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw = cr.grad(y, (x, w))
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None
    assert isinstance(cr.grad((x * x).sum(), x), tuple)


def test_grad_allow_unused():
    x = cr.tensor([1.0], requires_grad=True)
    unused = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(cr.AutogradError, match="allow_unused"):
        cr.grad((x * 2).sum(), [x, unused])
    gx, gu = cr.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_grad_outputs_and_multiple_outputs_match_torch():
    a, g1, g2 = arrays_from_seed(1, [(2, 3), (2, 3), (3,)])
    cx, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (cg,) = cr.grad([cx.sin(), cx.sum(0) ** 2], [cx], grad_outputs=[cr.tensor(g1), cr.tensor(g2)])
    (tg,) = torch.autograd.grad([tx.sin(), tx.sum(0) ** 2], [tx], grad_outputs=[torch.tensor(g1), torch.tensor(g2)])
    np.testing.assert_allclose(cg.numpy(), tg.numpy(), rtol=1e-12)


def test_grad_wrt_non_leaf():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (gh,) = cr.grad((h * h).sum(), h)
    np.testing.assert_array_equal(gh.numpy(), [6.0, 12.0])


def _mlp(lib, x, w1, b1, w2):
    h = (x @ w1 + b1).tanh()
    p = lib.softmax(h @ w2, dim=1) if lib is torch else cr.softmax(h @ w2, axis=1)
    return (p * p).sum() + (h.sigmoid() * x[:, :1]).sum()


def test_create_graph_hessian_vector_product_of_mlp_matches_torch():
    x, w1, b1, w2, v1, v2 = arrays_from_seed(2, [(4, 3), (3, 5), (5,), (5, 2), (3, 5), (5, 2)])
    cps = [cr.tensor(p, requires_grad=True) for p in (w1, b1, w2)]
    tps = [torch.tensor(p, requires_grad=True) for p in (w1, b1, w2)]
    cg = cr.grad(_mlp(cr, cr.tensor(x), *cps), cps, create_graph=True)
    tg = torch.autograd.grad(_mlp(torch, torch.tensor(x), *tps), tps, create_graph=True)
    for a, b in zip(cg, tg):
        assert a.requires_grad
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-13)
    cdot = (cg[0] * cr.tensor(v1)).sum() + (cg[2] * cr.tensor(v2)).sum()
    tdot = (tg[0] * torch.tensor(v1)).sum() + (tg[2] * torch.tensor(v2)).sum()
    for a, b in zip(cr.grad(cdot, cps), torch.autograd.grad(tdot, tps)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)


def test_backward_create_graph_then_differentiate_grad():
    x = cr.tensor([0.5, -1.0], dtype=cr.float64, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    (d2,) = cr.grad(g.sum(), x)
    np.testing.assert_allclose(d2.numpy(), 6 * x.numpy())


def test_third_derivative():
    x = cr.tensor(0.7, dtype=cr.float64, requires_grad=True)
    (g1,) = cr.grad(x.sin() * x, x, create_graph=True)
    (g2,) = cr.grad(g1, x, create_graph=True)
    (g3,) = cr.grad(g2, x)
    v = 0.7  # d3/dx3 (x sin x) = -3 sin x - x cos x
    assert g3.item() == pytest.approx(-3 * np.sin(v) - v * np.cos(v), rel=1e-12)


def test_backward_inputs_argument_restricts_accumulation():
    x = cr.tensor([1.0], requires_grad=True)
    w = cr.tensor([2.0], requires_grad=True)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None and w.grad.item() == 1.0


def test_constant_branches_and_requires_grad_propagation():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    c = cr.tensor([5.0, 6.0])
    y = x * c + c * c
    assert y.requires_grad and not (c * c).requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 6.0])
    assert c.grad is None


def test_first_order_backward_does_not_record_a_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x.tanh() * x).sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad
    assert cr.is_grad_enabled()


def test_saved_arrays_are_freed_after_backward():
    x = cr.tensor(np.ones((100, 100), dtype=np.float32), requires_grad=True)
    h = x * 2
    saved = weakref.ref(h.numpy())
    loss = (h.sin() * h).sum()
    node = loss.grad_fn
    del h
    assert saved() is not None  # the graph holds it for backward
    loss.backward()
    assert saved() is None  # and lets it go as soon as backward has used it
    assert node is loss.grad_fn


def test_retain_graph_keeps_saved_arrays():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    saved = weakref.ref(h.numpy())
    loss = h.sin().sum()  # sin saves its input
    del h
    loss.backward(retain_graph=True)
    assert saved() is not None
    loss.backward()
    assert saved() is None


def _leftover_chainrule_objects() -> list:
    """Objects the cyclic collector had to find (kept in gc.garbage by DEBUG_SAVEALL)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        found = [o for o in gc.garbage if type(o).__module__.startswith("chainrule")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return found


@pytest.mark.parametrize("create_graph", [False, True])
def test_graph_has_no_reference_cycles(create_graph):
    gc.collect()
    gc.disable()
    try:
        before = len(_leftover_chainrule_objects())
        assert before == 0
        x = cr.randn(8, 4)
        w1 = cr.randn(4, 16, requires_grad=True)
        b1 = cr.zeros(16, requires_grad=True)
        w2 = cr.randn(16, 3, requires_grad=True)
        for _ in range(3):
            h = (x @ w1 + b1).relu()
            h.retain_grad()
            out = cr.log_softmax(h @ w2, axis=1)
            loss = -(out[cr.arange(8), cr.tensor([0, 1, 2, 0, 1, 2, 0, 1])]).mean() + h.max() * 0.01
            h.register_hook(lambda g: g * 1.0)
            if create_graph:
                gs = cr.grad(loss, [w1, w2], create_graph=True)
                (gs[0].sum() + gs[1].sum()).backward()
            else:
                loss.backward()
        refs = [weakref.ref(t) for t in (h, out, loss)]
        del h, out, loss, x, w1, b1, w2
        if create_graph:
            del gs
        assert all(r() is None for r in refs), "freed by reference counting alone"
        assert _leftover_chainrule_objects() == []
    finally:
        gc.enable()


def test_freed_graph_error_names_the_op():
    x = cr.tensor([1.0], requires_grad=True)
    y = x.sigmoid().sum()
    y.backward()
    with pytest.raises(cr.AutogradError, match="Sigmoid"):
        y.backward()


def test_grad_never_aliases_the_callers_gradient_and_takes_the_outputs_dtype():
    g = cr.tensor([1.0, 2.0])
    x = cr.tensor([0.0, 0.0], requires_grad=True)
    (x + 0).backward(g)
    leaf = cr.tensor([0.0, 0.0], requires_grad=True)
    leaf.backward(g)
    assert not np.shares_memory(x.grad.numpy(), g.numpy())
    assert not np.shares_memory(leaf.grad.numpy(), g.numpy())
    with cr.no_grad():
        x.grad.zero_()
    np.testing.assert_array_equal(g.numpy(), [1.0, 2.0])
    y = cr.tensor([1.0, 2.0], requires_grad=True)
    (y * 2).backward(cr.tensor(np.ones(2)))  # a float64 gradient for a float32 output is cast (PyTorch)
    assert y.grad.dtype == np.float32


def test_grad_shares_no_memory_between_dot_grads():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()
    assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())


def test_leaf_hooks_run_for_cr_grad_like_torch():
    x = cr.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (g,) = cr.grad((x * 3).sum(), x)
    assert g.item() == 30.0


def test_no_grad_works_as_a_bare_decorator():
    @cr.no_grad
    def f(t):
        return t * 2

    @cr.enable_grad
    def g(t):
        return t * 2

    x = cr.tensor([1.0], requires_grad=True)
    assert not f(x).requires_grad
    with cr.no_grad():
        assert g(x).requires_grad


def test_grad_with_outputs_that_depend_on_each_other_matches_torch():
    a = arrays_from_seed(6, [(3,)])[0]
    cx, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    cy = cx.sin()
    ty = tx.sin()
    (cg,) = cr.grad([cy.sum(), (cy * cy).exp().sum(), cy.sum()], cx)
    (tg,) = torch.autograd.grad([ty.sum(), (ty * ty).exp().sum(), ty.sum()], tx)
    np.testing.assert_allclose(cg.numpy(), tg.numpy(), rtol=1e-12)


def test_grad_twice_needs_retain_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    cr.grad(y, x, retain_graph=True)
    cr.grad(y, x)
    with pytest.raises(cr.AutogradError, match="retain_graph"):
        cr.grad(y, x)


def _keep(lib):
    return {"keepdim": True} if lib is torch else {"keepdims": True}


_STEPS = {  # op name -> (lib, a, b) -> value; "u" ops ignore b
    "tanh": lambda lib, a, b: a.tanh(),
    "sin": lambda lib, a, b: a.sin(),
    "exp_small": lambda lib, a, b: (a * 0.1).exp(),
    "sigmoid": lambda lib, a, b: a.sigmoid(),
    "square": lambda lib, a, b: a * a,
    "neg": lambda lib, a, b: -a,
    "sum_keep": lambda lib, a, b: a.sum(dim=1, **_keep(lib)) + a,
    "softmax": lambda lib, a, b: lib.softmax(a, dim=0),
    "slice_cat": lambda lib, a, b: lib.cat([a[:, 2:], a[:, :2] * 2], dim=1),
    "add": lambda lib, a, b: a + b,
    "mul": lambda lib, a, b: a * b,
    "sub": lambda lib, a, b: a - b,
    "maximum": lambda lib, a, b: lib.maximum(a, b * 0.9),
    "matmul_t": lambda lib, a, b: (a @ b.T) @ a * 0.1,
    "where": lambda lib, a, b: lib.where(a > b, a, b * 2),
}


def _run_program(lib, leaves, program):
    """Apply a random straight-line program (with reuse) in chainrule or torch, return a scalar."""
    vals = list(leaves)
    for op, i, j in program:
        vals.append(_STEPS[op](lib, vals[i % len(vals)], vals[j % len(vals)]))
    tail = sum((v * (k + 1)).sum() for k, v in enumerate(vals[len(leaves):][-3:]))
    return tail + (leaves[0] * leaves[1]).sum() * 0.01  # every leaf is used


_step = st.tuples(st.sampled_from(sorted(_STEPS)), st.integers(0, 50), st.integers(0, 50))


@settings(max_examples=40)
@given(program=st.lists(_step, min_size=1, max_size=12), seed=st.integers(0, 1000))
def test_random_programs_with_reuse_match_torch_to_second_order(program, seed):
    arrays = arrays_from_seed(seed, [(3, 4), (3, 4)])
    cl = [cr.tensor(a, requires_grad=True) for a in arrays]
    tl = [torch.tensor(a, requires_grad=True) for a in arrays]
    cg = cr.grad(_run_program(cr, cl, program), cl, create_graph=True)
    tg = torch.autograd.grad(_run_program(torch, tl, program), tl, create_graph=True, allow_unused=True)
    for a, b in zip(cg, tg):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-9)
    v = arrays_from_seed(seed + 1, [(3, 4), (3, 4)])
    cdot = sum((g * cr.tensor(w)).sum() for g, w in zip(cg, v))
    tdot = sum((g * torch.tensor(w)).sum() for g, w in zip(tg, v))
    ch = cr.grad(cdot, cl, allow_unused=True)
    th = torch.autograd.grad(tdot, tl, allow_unused=True)
    for a, b in zip(ch, th):
        if b is None:
            assert a is None or not np.any(a.numpy())
        else:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-8, atol=1e-9)
    # and first order through .backward() (the fast path) agrees too
    cl2 = [cr.tensor(a, requires_grad=True) for a in arrays]
    _run_program(cr, cl2, program).backward()
    for a, b in zip(cl2, tg):
        np.testing.assert_allclose(a.grad.numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-9)


_FLOAT32_SECOND_ORDER = {
    "pow": lambda x: x ** 3 + x ** 2.5 + 2.0 ** x + x ** x,
    "div": lambda x: 1.0 / x + x / (x + 1.0),
    "elementwise": lambda x: x.exp() + x.log() + x.sqrt() + x.sin() + x.cos() + x.tanh() + x.sigmoid(),
    "kinks": lambda x: x.abs() * x + x.relu() * x + cr.clip(x, 0.6, 1.4) ** 2,
    "gelu": lambda x: cr.gelu(x) + cr.gelu(x, approximate="tanh"),
    "select": lambda x: cr.where(x > 1.0, x * x, x) + cr.maximum(x, 1.0) ** 2 + cr.minimum(x, 1.0) ** 2,
    "reduce": lambda x: x.amax(1, keepdims=True) * x + x.min() * x + x.logsumexp(0) * x.sum(1, keepdims=True).T,
    "stats": lambda x: x.var(0) * x.std(1, keepdims=True) + x.mean() * x,
    "softmax": lambda x: x.softmax(0) * x + x.log_softmax(1) * x,
    "shape": lambda x: cr.cat([x, x.T.reshape(3, 3)], 0)[::2] * cr.pad(x, (0, 0, 0, 0)).flatten()[:3],
    "index": lambda x: x[[0, 0, 2]] ** 2 + x[x > 1.0].sum(),
    "matmul": lambda x: (x @ x) @ x,
}


@pytest.mark.parametrize("name", list(_FLOAT32_SECOND_ORDER))
def test_second_order_in_float32_stays_float32(name):
    """The VJP rules run on Tensors under create_graph: no constant may turn float32 into float64."""
    f = _FLOAT32_SECOND_ORDER[name]
    a = np.abs(arrays_from_seed(3, [(3, 3)])[0]) + 0.5
    results = []
    for dt in (np.float32, np.float64):
        x = cr.tensor(a.astype(dt), requires_grad=True)
        (g,) = cr.grad(f(x).sum(), x, create_graph=True)
        assert g.dtype == dt
        (h,) = cr.grad((g * g).sum(), x, allow_unused=True)
        if h is not None:
            assert h.dtype == dt
        results.append((g.numpy(), None if h is None else h.numpy()))
    (g32, h32), (g64, h64) = results
    np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4)
    if h64 is not None:
        np.testing.assert_allclose(h32, h64, rtol=1e-3, atol=1e-3)


def test_backward_takes_a_list_as_one_gradient_like_torch():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(gradient=[1.0, 0.5, -1.0])
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (tx * tx).backward(gradient=torch.tensor([1.0, 0.5, -1.0]))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_grad_with_mismatched_gradient_count_is_an_error():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(cr.AutogradError, match="2 gradients for 1 outputs"):
        cr.grad([(x * x).sum()], [x], grad_outputs=[cr.tensor(1.0), cr.tensor(1.0)])
