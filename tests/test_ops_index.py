"""Indexing: ints, slices, None, Ellipsis, integer arrays (repeats accumulate) and boolean masks."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import arrays_from_seed, check_op, seeds, shapes
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr


@st.composite
def basic_index(draw, positive_steps: bool = True):
    """A shape and a basic index into it (at most one Ellipsis)."""
    shape = draw(shapes(min_dims=1, max_side=4))
    items: list = []
    dims = list(shape)
    used_ellipsis = False
    while dims and draw(st.booleans()) or not items:
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis"]))
        if kind == "none":
            items.append(None)
        elif kind == "ellipsis" and not used_ellipsis:
            used_ellipsis = True
            items.append(Ellipsis)
            dims = dims[len(dims) - draw(st.integers(0, len(dims))):]  # what follows indexes the last axes
        elif dims and kind == "int":
            n = dims.pop(0)
            items.append(draw(st.integers(-n, n - 1)))
        elif dims:
            dims.pop(0)
            start = draw(st.none() | st.integers(-5, 5))
            stop = draw(st.none() | st.integers(-5, 5))
            step = draw(st.none() | (st.integers(1, 3) if positive_steps else st.integers(-3, 3).filter(bool)))
            items.append(slice(start, stop, step))
        else:
            break
    index = items[0] if len(items) == 1 and draw(st.booleans()) else tuple(items)
    return shape, index


def _torch_index(index):
    if isinstance(index, tuple):
        return tuple(_torch_index(i) for i in index)
    if isinstance(index, np.ndarray):
        return torch.from_numpy(index)
    return index


@given(case=basic_index(), seed=seeds)
def test_basic_indexing_matches_torch(case, seed):
    shape, index = case
    check_op(lambda x: x[index], lambda x: x[_torch_index(index)], arrays_from_seed(seed, [shape]))


@given(case=basic_index(positive_steps=False), seed=seeds)
def test_negative_step_slices_match_numpy_and_gradcheck(case, seed):
    shape, index = case
    a = arrays_from_seed(seed, [shape])[0]
    x = cr.tensor(a, requires_grad=True)
    y = x[index]
    np.testing.assert_array_equal(y.numpy(), a[index])
    g = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(cr.tensor(g))
    want = np.zeros_like(a)
    want[index] += g  # basic indices never repeat a position
    np.testing.assert_array_equal(x.grad.numpy(), want)
    assert cr.gradcheck(lambda t: t[index], (cr.tensor(a, requires_grad=True),))


@st.composite
def advanced_index(draw):
    shape = draw(shapes(min_dims=1, max_side=4))
    n = shape[0]
    kind = draw(st.sampled_from(["ints", "ints2d", "pair", "after_slice", "mask", "mask_first", "list"]))
    r = np.random.default_rng(draw(seeds))
    if kind == "ints":  # repeats and negatives
        index = r.integers(-n, n, size=draw(st.integers(0, 6)))
    elif kind == "ints2d":
        index = r.integers(-n, n, size=(2, 3))
    elif kind == "pair" and len(shape) >= 2:
        index = (r.integers(0, n, size=4), r.integers(-shape[1], shape[1], size=(1, 4)))
    elif kind == "after_slice" and len(shape) >= 2:
        index = (slice(None), r.integers(0, shape[1], size=5))
    elif kind == "mask":
        index = r.random(shape) > 0.4
    elif kind == "mask_first":
        index = r.random(n) > 0.4
    else:
        index = [int(v) for v in r.integers(0, n, size=3)]
    return shape, index


@given(case=advanced_index(), seed=seeds)
def test_advanced_indexing_matches_torch_and_repeats_accumulate(case, seed):
    shape, index = case
    check_op(lambda x: x[index], lambda x: x[_torch_index(index)], arrays_from_seed(seed, [shape]))


def test_repeated_indices_accumulate_gradient():
    x = cr.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    x[[0, 0, 2, 0, -1]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0, 1.0])
    m = cr.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=True)
    idx = cr.tensor([1, 1, 0])
    (m[idx] * cr.tensor([[1.0], [2.0], [4.0]])).sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), [[4.0, 4.0, 4.0], [3.0, 3.0, 3.0]])
    assert m.grad.dtype == np.float32


def test_boolean_mask_indexing_and_tensor_masks():
    a = np.arange(12.0).reshape(3, 4)
    x = cr.tensor(a, requires_grad=True)
    y = x[x > 5]
    np.testing.assert_array_equal(y.numpy(), a[a > 5])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(a > 5, 2 * a, 0.0))
    rows = cr.tensor([True, False, True])
    assert x[rows].shape == (2, 4)
    assert x[rows, 1:3].shape == (2, 2)


def test_index_with_none_ellipsis_and_int_tensors():
    a = arrays_from_seed(3, [(2, 3, 4)])[0]
    check_op(lambda x: x[..., None, 1], lambda x: x[..., None, 1], [a])
    check_op(lambda x: x[None, :, ..., -1], lambda x: x[None, :, ..., -1], [a])
    check_op(lambda x: x[cr.tensor(1)], lambda x: x[torch.tensor(1)], [a], gradcheck=False)
    x = cr.tensor(a)
    assert x[1, 2, 3].shape == () and x[1, 2, 3].item() == pytest.approx(a[1, 2, 3])


def test_second_derivative_through_indexing_matches_torch():
    a = arrays_from_seed(8, [(4, 3)])[0]
    v = arrays_from_seed(9, [(4, 3)])[0]
    idx = np.array([0, 2, 2, 3, 0])

    def f(x):
        return (x[idx] ** 3).sum() + (x[1:, ::2].tanh() * x[:-1, ::2]).sum() + (x[x > 0] ** 2).sum()

    cx, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (g,) = cr.grad(f(cx), cx, create_graph=True)
    (tg,) = torch.autograd.grad(f(tx), tx, create_graph=True)
    np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-12)
    (hv,) = cr.grad((g * cr.tensor(v)).sum(), cx)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(hv.numpy(), thv.numpy(), rtol=1e-10, atol=1e-12)


def test_index_out_of_range_is_a_clear_chainrule_error():
    x = cr.zeros(2, 3, requires_grad=True)
    with pytest.raises(cr.IndexOutOfRange, match=r"shape \(2, 3\)") as info:
        x[5]
    assert "5" in str(info.value)
    with pytest.raises(cr.IndexOutOfRange, match=r"shape \(2, 3\)"):
        x[:, 3]
    with pytest.raises(cr.IndexOutOfRange, match=r"shape \(2, 3\)"):
        x[[0, 2]]
    with pytest.raises(cr.IndexOutOfRange, match=r"shape \(2, 3\)"):
        x[0, 0, 0]
    with pytest.raises(cr.IndexOutOfRange, match="float"):
        x[np.array([0.0, 1.0])]
    with pytest.raises(cr.IndexOutOfRange, match=r"shape \(2, 3\)"):
        x[cr.tensor([True, False, True])]
    assert isinstance(cr.IndexOutOfRange("x"), IndexError)  # plain `except IndexError` still works
