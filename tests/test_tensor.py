"""The Tensor class: attributes, conversions, dtype rules, differentiable casts, in-place guards, display."""
from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def test_exports_and_dtypes_equal_numpy_dtypes():
    assert cr.Tensor is type(cr.tensor(1.0))
    assert cr.float32 == np.float32 and cr.float64 == np.float64 and cr.float16 == np.float16
    assert cr.int64 == np.int64 and cr.bool == np.bool_
    t = cr.tensor([1.0])
    assert t.dtype is cr.float32 and t.dtype == np.float32 and t.dtype != np.float64 and t.dtype != cr.float64
    assert {np.dtype("float32"): "found"}[t.dtype] == "found" and t.dtype != None  # noqa: E711 - the None case
    assert repr(t.dtype) == "chainrule.float32" and t.dtype.is_floating_point and not cr.int64.is_floating_point
    assert np.zeros(2, dtype=t.dtype).dtype == np.float32 and np.ones(2).astype(cr.int64).dtype == np.int64
    assert isinstance(cr.Tensor([1.0, 2.0]), cr.Tensor)


def test_attributes():
    x = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.device == "cpu"
    assert x.requires_grad and x.grad is None and x.is_leaf and x.grad_fn is None
    assert x.numel() == 6 and len(x) == 2 and x.size() == (2, 3) and x.size(1) == 3 and x.dim() == 2
    y = x * 2
    assert not y.is_leaf and y.grad_fn is not None and y.requires_grad
    assert "Mul" in y.grad_fn.name()
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2)


def test_conversions():
    x = cr.tensor([[1.5, 2.0]])
    assert isinstance(x.numpy(), np.ndarray)
    assert x.tolist() == [[1.5, 2.0]]
    assert cr.tensor([3.5]).item() == 3.5 and isinstance(cr.tensor(3.5).item(), float)
    assert float(cr.tensor(2.5)) == 2.5 and int(cr.tensor(7)) == 7
    assert bool(cr.tensor(1.0)) and not bool(cr.tensor(0.0))
    np.testing.assert_array_equal(np.asarray(x), [[1.5, 2.0]])
    assert [v.item() for v in cr.tensor([1.0, 2.0])] == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"shape \(1, 2\)"):
        x.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)


def test_tensor_copies_and_from_numpy_shares():
    a = np.ones(3, dtype=np.float32)
    t = cr.tensor(a)
    f = cr.from_numpy(a)
    a[0] = 5.0
    assert t.numpy()[0] == 1.0 and f.numpy()[0] == 5.0


def test_requires_grad_rules():
    x = cr.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad = False
    assert not x.requires_grad
    y = cr.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(cr.AutogradError, match="detach"):
        y.requires_grad_(False)
    with pytest.raises(cr.DTypeError, match="int64"):
        cr.tensor([1, 2]).requires_grad_()


def test_casts_are_differentiable_and_explicit():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    d = x.double()
    assert d.dtype == np.float64 and d.requires_grad
    (d * cr.tensor(np.array([3.0, 4.0]))).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    assert x.to(cr.float32) is x
    assert x.float().dtype == np.float32 and x.half().dtype == np.float16
    assert x.long().dtype == np.int64 and not x.long().requires_grad
    assert x.to(np.float64).dtype == np.float64
    assert x.to("cpu") is x


def test_in_place_changes_are_guarded_outside_no_grad():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(cr.AutogradError, match="in-place"):
        w.add_(1.0)
    with pytest.raises(cr.AutogradError, match="in-place"):
        w[0] = 3.0
    with cr.no_grad():
        w.sub_(cr.tensor([0.5, 0.5]))
        w.mul_(2.0)
        w[1] = 10.0
    np.testing.assert_array_equal(w.numpy(), [1.0, 10.0])
    c = cr.zeros(3)
    c[cr.tensor([0, 2])] = 1.0
    np.testing.assert_array_equal(c.numpy(), [1.0, 0.0, 1.0])
    assert c.fill_(2.0) is c and c.zero_().numpy().sum() == 0


def test_clone_and_detach():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.requires_grad and not np.shares_memory(c.numpy(), x.numpy())
    (c * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    assert not cr.tensor([1.0]).clone().requires_grad


def test_ndarray_operand_defers_to_tensor():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([2.0, 3.0], dtype=np.float32) * x
    assert isinstance(y, cr.Tensor) and y.requires_grad
    z = np.array([1.0, 1.0], dtype=np.float32) - x
    np.testing.assert_array_equal(z.numpy(), [0.0, -1.0])
    with pytest.raises(cr.DTypeError, match="float64"):
        np.array([2.0, 3.0]) * x  # a float64 array would silently upcast


def test_repr_shows_values_dtype_and_grad_fn():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "dtype=chainrule.float64" in repr(cr.tensor(np.array([1.0])))  # PyTorch: dtype=torch.float64
    assert "requires_grad=True" in repr(cr.tensor([1.0], requires_grad=True))
    assert "grad_fn=<" in repr(cr.tensor([1.0], requires_grad=True) * 2)


def test_operator_sugar_equals_functions():
    a = cr.tensor([[1.0, -2.0]])
    b = cr.tensor([[3.0], [4.0]])
    np.testing.assert_array_equal((a @ b).numpy(), cr.matmul(a, b).numpy())
    np.testing.assert_array_equal((-a).numpy(), cr.neg(a).numpy())
    np.testing.assert_array_equal(abs(a).numpy(), [[1.0, 2.0]])
    np.testing.assert_array_equal((+a).numpy(), a.numpy())
    np.testing.assert_array_equal(((a > 0) & (a < 5)).numpy(), [[True, False]])
    np.testing.assert_array_equal((~(a > 0)).numpy(), [[False, True]])


def test_type_names_and_dtype_printing_follow_torch():
    import torch

    for dt, tdt in ((cr.float32, torch.float32), (cr.float64, torch.float64), (cr.int64, torch.int64),
                    (cr.bool, torch.bool), (cr.uint8, torch.uint8)):
        ours, theirs = cr.zeros(2, dtype=dt), torch.zeros(2, dtype=tdt)
        assert ours.type() == theirs.type().replace("torch.", "chainrule.")
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "chainrule.")
        assert ours.dtype.is_floating_point == theirs.dtype.is_floating_point
    assert cr.zeros(2).type(cr.float64).dtype == cr.float64
