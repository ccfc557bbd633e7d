"""Shape ops: reshape transpose permute .T flatten squeeze unsqueeze expand broadcast_to cat stack pad."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from helpers import arrays_from_seed, check_op, seeds, shapes
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr


@st.composite
def reshape_case(draw):
    shape = draw(shapes(max_side=4))
    target = list(draw(st.permutations(shape)))
    for _ in range(draw(st.integers(0, 2))):
        target.insert(draw(st.integers(0, len(target))), 1)
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    if draw(st.booleans()):
        target = [int(np.prod(shape))]
    return shape, tuple(target), draw(seeds)


@given(case=reshape_case())
def test_reshape_matches_torch(case):
    shape, target, seed = case
    a = arrays_from_seed(seed, [shape])
    check_op(lambda x: x.reshape(target), lambda x: x.reshape(target), a)
    check_op(lambda x: cr.reshape(x, *target), lambda x: torch.reshape(x, target), a)
    check_op(lambda x: x.view(*target), lambda x: x.reshape(target), a, gradcheck=False)


@st.composite
def axes_case(draw):
    shape = draw(shapes(min_dims=1, max_side=4))
    nd = len(shape)
    pair = (draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1)))
    return shape, pair, tuple(draw(st.permutations(range(nd)))), draw(seeds)


@given(case=axes_case())
def test_transpose_permute_T_match_torch(case):
    shape, (a0, a1), perm, seed = case
    a = arrays_from_seed(seed, [shape])
    nd = len(shape)
    check_op(lambda x: x.transpose(a0, a1), lambda x: x.transpose(a0, a1), a)
    check_op(lambda x: cr.transpose(x, a0, a1), lambda x: torch.transpose(x, a0, a1), a, gradcheck=False)
    check_op(lambda x: x.permute(*perm), lambda x: x.permute(*perm), a)
    check_op(lambda x: cr.permute(x, perm), lambda x: torch.permute(x, perm), a, gradcheck=False)
    check_op(lambda x: x.T, lambda x: x.permute(*reversed(range(nd))), a)


def test_transpose_swaps_two_axes_only():
    x = cr.zeros(2, 3, 4, 5)
    assert x.transpose(1, 3).shape == (2, 5, 4, 3)
    assert x.transpose(0, -1).shape == (5, 3, 4, 2)
    assert x.permute(3, 1, 0, 2).shape == (5, 3, 2, 4)
    assert x.T.shape == (5, 4, 3, 2)
    assert cr.zeros(2, 3).T.shape == (3, 2)


@st.composite
def squeeze_case(draw):
    shape = draw(shapes(max_side=3).map(lambda s: tuple(1 if v == 3 else v for v in s)))  # many size-1 axes
    nd = len(shape)
    sq = draw(st.none() | st.integers(-nd, nd - 1)) if nd else None
    un = draw(st.integers(-nd - 1, nd))
    start = draw(st.integers(-nd, nd - 1)) if nd else 0
    end = draw(st.integers(start % nd if nd else 0, nd - 1)) if nd else -1
    return shape, sq, un, (start, end), draw(seeds)


@given(case=squeeze_case())
def test_squeeze_unsqueeze_flatten_match_torch(case):
    shape, sq, un, (start, end), seed = case
    a = arrays_from_seed(seed, [shape])
    if sq is None:
        check_op(lambda x: x.squeeze(), lambda x: x.squeeze(), a)
    else:
        check_op(lambda x: x.squeeze(sq), lambda x: x.squeeze(sq), a)
        check_op(lambda x: cr.squeeze(x, dim=sq), lambda x: torch.squeeze(x, dim=sq), a, gradcheck=False)
    check_op(lambda x: x.unsqueeze(un), lambda x: x.unsqueeze(un), a)
    check_op(lambda x: cr.unsqueeze(x, dim=un), lambda x: torch.unsqueeze(x, dim=un), a, gradcheck=False)
    check_op(lambda x: x.flatten(start, end), lambda x: x.flatten(start, end), a)
    check_op(lambda x: cr.flatten(x), lambda x: torch.flatten(x), a, gradcheck=False)


def test_squeeze_on_axis_not_of_size_one_leaves_tensor_unchanged():
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x.squeeze(0)
    assert y.shape == (2, 3)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    assert cr.squeeze(cr.zeros(1, 3, 1), axis=1).shape == (1, 3, 1)
    assert cr.zeros(1, 3, 1).squeeze((0, 1, 2)).shape == (3,)


@st.composite
def broadcast_case(draw):
    shape = draw(shapes(max_side=3))
    target = [draw(st.integers(1, 3)) if s == 1 else s for s in shape]
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    expand = list(lead) + [(-1 if draw(st.booleans()) else t) for t in target]
    return shape, tuple(lead + target), tuple(expand), draw(seeds)


@given(case=broadcast_case())
def test_expand_broadcast_to_match_torch(case):
    shape, target, expand, seed = case
    a = arrays_from_seed(seed, [shape])
    check_op(lambda x: x.broadcast_to(target), lambda x: x.broadcast_to(target), a)
    check_op(lambda x: cr.broadcast_to(x, target), lambda x: torch.broadcast_to(x, target), a, gradcheck=False)
    if expand:  # torch's expand needs at least one size
        check_op(lambda x: x.expand(*expand), lambda x: x.expand(*expand), a)
        check_op(lambda x: cr.expand(x, expand), lambda x: x.expand(expand), a, gradcheck=False)


@st.composite
def cat_case(draw):
    shape = draw(shapes(min_dims=1, max_side=3))
    nd = len(shape)
    axis = draw(st.integers(-nd, nd - 1))
    sizes = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    parts = [tuple(s if i != axis % nd else k for i, s in enumerate(shape)) for k in sizes]
    if all(int(np.prod(p)) == 0 for p in parts):
        parts[0] = shape
    return parts, axis, draw(st.integers(-nd - 1, nd)), draw(st.booleans()), draw(seeds)


@given(case=cat_case())
def test_cat_stack_match_torch(case):
    parts, axis, stack_axis, use_dim, seed = case
    arrays = arrays_from_seed(seed, parts)
    if use_dim:
        check_op(lambda *xs: cr.cat(xs, dim=axis), lambda *xs: torch.cat(xs, dim=axis), arrays)
    else:
        check_op(lambda *xs: cr.cat(list(xs), axis), lambda *xs: torch.cat(xs, axis), arrays)
    same = arrays_from_seed(seed, [parts[0]] * len(parts))
    if use_dim:
        check_op(lambda *xs: cr.stack(xs, dim=stack_axis), lambda *xs: torch.stack(xs, dim=stack_axis), same)
    else:
        check_op(lambda *xs: cr.stack(xs, stack_axis), lambda *xs: torch.stack(xs, stack_axis), same)


def test_cat_with_constant_and_repeated_inputs():
    a = arrays_from_seed(2, [(2, 3)])[0]
    check_op(lambda x: cr.cat([x, x * 2, x], axis=1), lambda x: torch.cat([x, x * 2, x], 1), [a])
    x = cr.tensor(a, requires_grad=True)
    y = cr.cat([x, cr.zeros(2, 3, dtype=np.float64)], dim=0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))
    assert cr.concatenate([x, x]).shape == (4, 3)


@st.composite
def pad_case(draw):
    shape = draw(shapes(min_dims=1, max_side=3))
    pairs = draw(st.integers(1, len(shape)))
    pad = tuple(draw(st.integers(0, 2)) for _ in range(2 * pairs))
    return shape, pad, draw(st.sampled_from([0.0, -1.5])), draw(seeds)


@given(case=pad_case())
def test_pad_matches_torch(case):
    shape, pad, value, seed = case
    a = arrays_from_seed(seed, [shape])
    check_op(lambda x: cr.pad(x, pad, value=value), lambda x: TF.pad(x, pad, value=value), a)


def test_pad_flat_tuple_is_last_axis_first():
    x = cr.ones(2, 3)
    y = cr.pad(x, (1, 2))
    assert y.shape == (2, 6)
    np.testing.assert_array_equal(y.numpy()[0], [0, 1, 1, 1, 0, 0])
    z = cr.pad(x, (0, 0, 3, 0), value=7.0)
    assert z.shape == (5, 3)
    np.testing.assert_array_equal(z.numpy()[:3], np.full((3, 3), 7.0))
    assert z.dtype == np.float32


def test_shape_ops_compose_with_second_derivatives_like_torch():
    a = arrays_from_seed(4, [(2, 3, 1)])[0]
    v = arrays_from_seed(5, [(2, 3, 1)])[0]

    def f(m, x):
        y = m.cat([x.permute(2, 0, 1).expand(2, 2, 3), x.transpose(0, 1).reshape(1, 2, 3) ** 2], 0)
        p = TF.pad(y, (1, 0)) if m is torch else cr.pad(y, (1, 0))
        return (m.stack([p, p * p], 1).flatten().tanh() * m.broadcast_to(x.squeeze(-1).sum(), (48,))).sum()

    cx, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (g,) = cr.grad(f(cr, cx), cx, create_graph=True)
    (tg,) = torch.autograd.grad(f(torch, tx), tx, create_graph=True)
    np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-10)
    (hv,) = cr.grad((g * cr.tensor(v)).sum(), cx)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(hv.numpy(), thv.numpy(), rtol=1e-9, atol=1e-12)


def test_shape_errors_name_op_and_shapes():
    x = cr.zeros(2, 3)
    with pytest.raises(cr.ShapeError, match=r"reshape: .*\(2, 3\).*\(4, 2\)"):
        x.reshape(4, 2)
    with pytest.raises(cr.ShapeError, match=r"cat: tensor 0 has shape \(2, 3\) and tensor 1 has shape \(2, 4\)"):
        cr.cat([x, cr.zeros(2, 4)], axis=0)
    with pytest.raises(cr.ShapeError, match=r"stack: .*\(2, 3\).*\(3, 2\)"):
        cr.stack([x, cr.zeros(3, 2)])
    with pytest.raises(cr.ShapeError, match=r"broadcast_to: .*\(2, 3\).*\(2, 4\)"):
        x.broadcast_to(2, 4)
    with pytest.raises(cr.ShapeError, match=r"broadcast_to: .*\(2, 3\).*\(3,\)"):
        x.broadcast_to(3)
    with pytest.raises(cr.ShapeError, match="permute"):
        x.permute(0, 0)
    with pytest.raises(cr.ShapeError, match="out of range"):
        x.unsqueeze(4)
    with pytest.raises(cr.ShapeError, match="out of range"):
        x.transpose(0, 2)
    with pytest.raises(cr.DTypeError, match=r"cat: .*float32.*float64"):
        cr.cat([x, cr.zeros(2, 3, dtype=cr.float64)])
    with pytest.raises(ValueError, match="pad"):
        cr.pad(x, (1, 2, 3))
