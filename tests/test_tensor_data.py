"""``Tensor.data`` is PyTorch's: a Tensor outside the graph that shares the memory (issue 12).

Before, ``.data`` was the NumPy array, so ``p.data += t`` and ``p.data.zero_()`` failed and
``p.data.std()`` silently used NumPy's biased formula.
"""
import numpy as np
import pytest
import torch

import chainrule as cr


def _pair(values):
    arr = np.asarray(values, np.float32)
    return cr.nn.Parameter(cr.tensor(arr)), torch.nn.Parameter(torch.tensor(arr))


def test_data_is_a_detached_tensor_sharing_memory():
    p, _ = _pair([1.0, 2.0, 3.0])
    d = p.data
    assert isinstance(d, cr.Tensor) and not isinstance(d, cr.nn.Parameter)
    assert not d.requires_grad and d.grad_fn is None and p.requires_grad
    d[0] = 10.0
    assert p.tolist() == [10.0, 2.0, 3.0]
    assert d.numpy() is p.numpy()


def test_std_through_data_is_unbiased_like_torch():
    values = np.random.default_rng(0).normal(size=7)
    p, tp = _pair(values)
    assert p.data.std().item() == pytest.approx(tp.data.std().item(), rel=1e-6)
    assert p.data.std().item() != pytest.approx(np.std(values.astype(np.float32)), rel=1e-3)


def test_in_place_updates_through_data_like_torch():
    p, tp = _pair([1.0, -2.0, 3.0])
    for t, g in ((p, cr.tensor([0.5, 0.5, 0.5])), (tp, torch.tensor([0.5, 0.5, 0.5]))):
        t.data += g
        t.data -= 0.25 * g
        t.data.mul_(2)
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy())
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    p.data.zero_()
    assert p.tolist() == [0.0, 0.0, 0.0]


def test_assigning_data_replaces_the_values_shape_included():
    p, tp = _pair([1.0, 2.0])
    p.data = cr.zeros(3, 2)
    tp.data = torch.zeros(3, 2)
    assert p.shape == tuple(tp.shape) == (3, 2) and p.requires_grad
    with pytest.raises(TypeError, match="assigned data must be a Tensor"):
        p.data = 3.0


def test_manual_sgd_with_data_matches_torch():
    rng = np.random.default_rng(1)
    x, w0 = rng.normal(size=(8, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)
    results = []
    for lib in (cr, torch):
        w = lib.tensor(w0.copy(), requires_grad=True)
        for _ in range(5):
            loss = (lib.tensor(x) @ w).pow(2).mean()
            loss.backward()
            w.data -= 0.1 * w.grad.data
            w.grad = None
        results.append(w.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-7)


def test_a_saved_value_changed_through_data_is_an_error_not_a_wrong_gradient():
    """PyTorch silently uses the new value here; chainrule refuses (its version check sees the memory)."""
    a = cr.tensor([1.0, 2.0])
    w = cr.tensor([1.0, 1.0], requires_grad=True)
    y = (a * w).sum()
    a.data.mul_(10)
    with pytest.raises(cr.AutogradError, match="modified by an inplace operation"):
        y.backward()
