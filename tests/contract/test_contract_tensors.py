# ruff: noqa: B023  (the lambdas are called at once, inside the loop that binds their variables)
"""DESIGN.md "Tensors": creation functions, dtypes, attributes and methods, as PyTorch users know them."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr


def test_tensor_signature_and_default_dtypes():
    assert cr.tensor([1.0, 2.0]).dtype == np.float32
    assert cr.tensor(1.5).dtype == np.float32 and cr.tensor(1.5).shape == ()
    assert cr.tensor([[1, 2]]).dtype == np.int64  # as torch.tensor
    assert cr.tensor([True, False]).dtype == np.bool_
    for dt in (np.float64, np.float16, np.int32, np.int64, np.float32, np.bool_):
        assert cr.tensor(np.zeros(3, dtype=dt)).dtype == dt  # an ndarray keeps its dtype
    t = cr.tensor(data=[1, 2], dtype=cr.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad
    assert cr.tensor([1, 2], dtype=cr.float32).dtype == np.float32


def test_tensor_does_not_alias_and_from_numpy_shares():
    a = np.arange(3.0)
    t = cr.tensor(a)
    a[0] = 10
    assert t.numpy()[0] == 0
    f = cr.from_numpy(a)
    assert f.dtype == np.float64
    a[1] = 20
    assert f.numpy()[1] == 20  # torch.from_numpy shares memory


def test_dtypes_print_like_torch_and_are_numpy_dtypes_to_numpy():
    assert cr.float32 == np.float32 and cr.float64 == np.float64 and cr.float16 == np.float16
    assert cr.int64 == np.int64 and cr.bool == np.bool_
    assert isinstance(cr.tensor([1.0]).dtype, cr.dtype) and np.dtype(cr.tensor([1.0]).dtype) == np.float32
    assert str(cr.tensor([1.0]).dtype) == str(torch.tensor([1.0]).dtype).replace("torch.", "chainrule.")
    assert cr.Tensor is type(cr.tensor(0.0))


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty"])
def test_zeros_ones_empty_star_shape(fn):
    f = getattr(cr, fn)
    assert f(2, 3).shape == (2, 3)
    assert f((2, 3)).shape == (2, 3)
    assert f([4]).shape == (4,)
    assert f(5).shape == (5,)
    assert f().shape == ()
    assert f(2, 0).shape == (2, 0)
    assert f(2, 3).dtype == np.float32
    assert f(2, dtype=cr.float64).dtype == np.float64
    assert f(2, requires_grad=True).requires_grad
    if fn != "empty":
        np.testing.assert_array_equal(f(2, 3).numpy(), getattr(torch, fn)(2, 3).numpy())


def test_full_and_likes():
    t = cr.full((2, 3), 7.0)
    assert t.shape == (2, 3) and t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), 7.0))
    assert cr.full((2,), 3).dtype == np.int64  # torch.full infers int64 from an int fill
    assert cr.full((2,), True).dtype == np.bool_
    assert cr.full([], 2.5).shape == ()
    assert cr.full((2,), 1.0, dtype=cr.float64).dtype == np.float64
    x = cr.tensor(np.ones((2, 3), dtype=np.float64))
    for fn, v in ((cr.zeros_like, 0), (cr.ones_like, 1)):
        y = fn(x)
        assert y.shape == (2, 3) and y.dtype == np.float64 and np.all(y.numpy() == v)
        assert fn(x, dtype=cr.float32).dtype == np.float32
    assert not cr.zeros_like(cr.zeros(2, requires_grad=True)).requires_grad


def test_arange_matches_torch():
    for args in ((5,), (2, 7), (0, 10, 3), (0.0, 1.0, 0.25), (5, 0, -1), (1, 2.5, 0.5)):
        c, t = cr.arange(*args), torch.arange(*args)
        assert c.dtype == np.dtype(str(t.dtype).replace("torch.", "")), (args, c.dtype, t.dtype)
        np.testing.assert_allclose(c.numpy(), t.numpy())
    assert cr.arange(4, dtype=cr.float64).dtype == np.float64


def test_eye():
    np.testing.assert_array_equal(cr.eye(3).numpy(), torch.eye(3).numpy())
    np.testing.assert_array_equal(cr.eye(2, 4).numpy(), torch.eye(2, 4).numpy())
    assert cr.eye(3).dtype == np.float32 and cr.eye(3, dtype=cr.float64).dtype == np.float64


def test_random_and_manual_seed():
    cr.manual_seed(3)
    a, b = cr.randn(4, 5), cr.rand(3)
    cr.manual_seed(3)
    a2, b2 = cr.randn(4, 5), cr.rand(3)
    np.testing.assert_array_equal(a.numpy(), a2.numpy())
    np.testing.assert_array_equal(b.numpy(), b2.numpy())
    assert a.shape == (4, 5) and a.dtype == np.float32 and b.dtype == np.float32
    assert cr.randn((2, 3)).shape == (2, 3) and cr.rand((2, 3)).shape == (2, 3)
    assert cr.randn(2, dtype=cr.float64).dtype == np.float64
    assert cr.randn(2, requires_grad=True).requires_grad
    r = cr.rand(10000).numpy()
    assert r.min() >= 0 and r.max() < 1 and abs(r.mean() - 0.5) < 0.02
    n = cr.randn(10000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    cr.manual_seed(4)
    assert not np.array_equal(cr.randn(4, 5).numpy(), a.numpy())


def test_attributes():
    x = cr.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert x.shape == (1, 3) and isinstance(x.shape, tuple)
    assert x.ndim == 2
    assert x.dtype == np.float32
    assert str(x.device) == "cpu"
    assert x.requires_grad and x.is_leaf and x.grad is None and x.grad_fn is None
    y = x * 2
    assert not y.is_leaf and y.grad_fn is not None and y.requires_grad
    z = cr.tensor([1.0])
    assert z.is_leaf and not z.requires_grad  # torch: a tensor without grad is a leaf
    with cr.no_grad():
        w = x * 2
    assert w.is_leaf and w.grad_fn is None and not w.requires_grad


def test_conversion_methods():
    x = cr.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert isinstance(x.numpy(), np.ndarray) and x.numpy().dtype == np.float32
    assert x.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert cr.tensor(2.5).tolist() == 2.5
    assert x.numel() == 4 and cr.tensor(1.0).numel() == 1 and cr.zeros(0, 3).numel() == 0
    v = cr.tensor([[3.5]]).item()
    assert v == 3.5 and isinstance(v, float)
    assert isinstance(cr.tensor(3).item(), int)
    assert isinstance(cr.tensor(True).item(), bool)
    with pytest.raises(Exception, match=r"(?i)item|element|shape"):
        x.item()


def test_detach_shares_memory_and_cuts_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).detach()
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    d = x.detach()
    d.numpy()[0] = 9  # torch: detach shares storage
    assert x.numpy()[0] == 9


def test_requires_grad_():
    x = cr.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(Exception, match=r"(?i)float|integer|int64|dtype"):
        cr.tensor([1, 2]).requires_grad_()
    with pytest.raises(Exception, match=r"(?i)float|integer|int64|dtype"):
        cr.tensor([1, 2], requires_grad=True)


def test_grad_is_tensor_and_accumulates():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert isinstance(x.grad, cr.Tensor) and x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [2, 4])
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5, 7])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_backward_signature_defaults():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(gradient=cr.tensor([1.0, 0.5, 0.0]), retain_graph=True, create_graph=False)
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 0])
    y.backward(cr.tensor([1.0, 1.0, 1.0]))  # the retained graph allows a second pass
    np.testing.assert_allclose(x.grad.numpy(), [4, 6, 6])
    with pytest.raises(Exception, match=r"(?i)free|retain_graph|second"):
        y.backward(cr.tensor([1.0, 1.0, 1.0]))  # buffers freed by the default retain_graph=False
    with pytest.raises(Exception, match=r"(?i)scalar|gradient"):
        (x * 2).backward()  # non-scalar, no gradient given


def test_backward_create_graph_second_order():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    (tx ** 3).sum().backward(create_graph=True)
    g, tg = x.grad, tx.grad
    assert g.requires_grad
    np.testing.assert_allclose(g.numpy(), tg.detach().numpy())
    x.grad, tx.grad = None, None
    g.sum().backward()
    tg.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_retain_grad_and_hooks():
    x = cr.tensor([1.0, -2.0, 3.0], requires_grad=True)
    tx = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y, ty = x * 2, tx * 2
    y.retain_grad()
    ty.retain_grad()
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h = y.register_hook(lambda g: g * 10)
    ty.register_hook(lambda g: g * 10)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    # whether y.grad is taken before or after y's own hook: whatever torch does
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy())
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(seen[0], tx.grad.numpy())
    assert hasattr(h, "remove")
    h.remove()
    x.grad = None
    (x * 2 * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])


def test_non_leaf_grad_is_none_without_retain_grad():
    x = cr.tensor([1.0], requires_grad=True)
    y = x * 2
    (y * 3).sum().backward()
    assert y.grad is None


def test_T_and_repr_and_len():
    x = cr.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(x.T.numpy(), np.arange(24.0).reshape(2, 3, 4).transpose())
    assert cr.tensor(np.ones(3)).T.shape == (3,)
    assert cr.tensor(2.0).T.shape == ()
    assert len(x) == 2
    assert "tensor" in repr(x)
