"""Creation functions and the dtype rules: Python floats are float32, arrays keep their dtype."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr


@pytest.mark.parametrize("data, dtype", [
    (1.0, np.float32), ([1.0, 2.5], np.float32), ([[1, 2]], np.int64), ([True, False], np.bool_),
    ([1, 2.5], np.float32), (np.array([1.0]), np.float64), (np.array([1.0], dtype=np.float16), np.float16),
    (np.array([1], dtype=np.int32), np.int32), (np.float64(2.0), np.float64), (np.float32(2.0), np.float32),
])
def test_tensor_dtype_rules(data, dtype):
    t = cr.tensor(data)
    assert t.dtype == dtype
    if not isinstance(data, np.generic):  # torch's own rule for np.float64 scalars is to default to float32
        assert str(torch.tensor(data).dtype).replace("torch.", "") == np.dtype(dtype).name


def test_tensor_dtype_argument_and_requires_grad():
    t = cr.tensor([1, 2], dtype=cr.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad
    assert cr.tensor([1.0], dtype=cr.float16).dtype == np.float16
    assert cr.as_tensor(t) is t
    arr = np.zeros(2, dtype=np.float32)
    assert np.shares_memory(cr.as_tensor(arr).numpy(), arr)  # as torch.as_tensor: no copy when none is needed
    assert cr.as_tensor(arr, dtype=cr.float64).dtype == np.float64
    assert cr.as_tensor([1.0]).dtype == np.float32
    with pytest.raises(cr.DTypeError, match="int64"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(cr.DTypeError, match="dtype"):
        cr.tensor(["a", "b"])


@pytest.mark.parametrize("fn, value", [(cr.zeros, 0.0), (cr.ones, 1.0)])
def test_filled(fn, value):
    for t in (fn(2, 3), fn((2, 3)), fn([2, 3])):
        assert t.shape == (2, 3) and t.dtype == np.float32 and np.all(t.numpy() == value)
    assert fn(2, dtype=cr.float64).dtype == np.float64
    assert fn(2, requires_grad=True).requires_grad
    assert fn().shape == ()
    assert cr.empty(4, 1).shape == (4, 1) and cr.empty(4).dtype == np.float32


def test_full_and_likes():
    f = cr.full((2, 2), 3.5)
    assert f.dtype == np.float32 and np.all(f.numpy() == 3.5)
    assert cr.full((2,), 3).dtype == np.int64
    assert cr.full(3, 1.0).shape == (3,)
    base = cr.tensor(np.ones((2, 3)))
    assert cr.zeros_like(base).dtype == np.float64 and cr.zeros_like(base).shape == (2, 3)
    assert np.all(cr.ones_like(base).numpy() == 1)
    assert cr.ones_like(cr.ones(2), requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="negative"):
        cr.zeros(2, -1)


def test_arange_eye_linspace_match_torch():
    assert cr.arange(5).dtype == np.int64
    np.testing.assert_array_equal(cr.arange(5).numpy(), torch.arange(5).numpy())
    np.testing.assert_array_equal(cr.arange(1, 7, 2).numpy(), torch.arange(1, 7, 2).numpy())
    a = cr.arange(0.0, 1.0, 0.25)
    assert a.dtype == np.float32
    np.testing.assert_allclose(a.numpy(), torch.arange(0.0, 1.0, 0.25).numpy())
    np.testing.assert_array_equal(cr.eye(3).numpy(), torch.eye(3).numpy())
    assert cr.eye(2, 3).shape == (2, 3) and cr.eye(2).dtype == np.float32
    np.testing.assert_allclose(cr.linspace(0, 1, 5).numpy(), torch.linspace(0, 1, 5).numpy())


def test_random_is_float32_and_repeatable_with_manual_seed():
    cr.manual_seed(123)
    a, b = cr.randn(3, 4), cr.rand(5)
    cr.manual_seed(123)
    a2, b2 = cr.randn(3, 4), cr.rand(5)
    np.testing.assert_array_equal(a.numpy(), a2.numpy())
    np.testing.assert_array_equal(b.numpy(), b2.numpy())
    assert a.dtype == np.float32 and a.shape == (3, 4)
    assert np.all((b.numpy() >= 0) & (b.numpy() < 1))
    assert cr.randn(2, requires_grad=True).requires_grad
    assert cr.randn((2, 2), dtype=cr.float64).dtype == np.float64
    r = cr.randint(0, 3, (100,))
    assert r.dtype == np.int64 and set(np.unique(r.numpy())) <= {0, 1, 2}
    assert sorted(cr.randperm(6).tolist()) == list(range(6))
    big = cr.randn(20000).numpy()
    assert abs(big.mean()) < 0.05 and abs(big.std() - 1) < 0.05


@pytest.mark.parametrize("make, error, words", [
    (lambda: cr.full((2,), "a"), cr.DTypeError, "only numbers and bools"),
    (lambda: cr.from_numpy(np.array([object()])), cr.DTypeError, "dtype object"),
    (lambda: cr.arange(0, 1, 0), ValueError, "step must not be zero"),
    (lambda: cr.eye(-1), cr.ShapeError, "negative dimension"),
    (lambda: cr.randn(2.5), cr.ShapeError, "sizes must be integers"),
    (lambda: cr.Tensor([[1, 2], [3]]), cr.ShapeError, "not a rectangular array"),
    (lambda: cr.ones(2).to("cuda"), ValueError, "CPU only"),
])
def test_bad_creation_arguments_raise_chainrule_errors(make, error, words):
    with pytest.raises(error, match=words):
        make()


@pytest.mark.parametrize("axis", [1.7, "a"])
def test_a_non_integer_axis_is_refused_by_name(axis):
    with pytest.raises(cr.ShapeError, match=r"sum: an axis must be an integer"):
        cr.ones(3, 2).sum(axis=axis)
