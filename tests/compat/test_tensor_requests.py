"""Tensor behaviours the compatibility scripts needed from tensor.py / creation.py, against torch 2.13."""
from __future__ import annotations

import pytest
import torch

import chainrule as cr


def test_item_assignment_is_recorded_as_pytorch_records_it():
    for lib in (cr, torch):
        w = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        d = lib.zeros(2, 2)
        h = w * 3
        for k in range(2):
            d[k] += h[1 - k]  # the manual-backprop exercise's dC[ix] += demb[k, j]
        s = lib.softmax(w, 1) * 1
        s[range(2), lib.tensor([1, 0])] -= 1  # dlogits[range(n), Yb] -= 1
        (d.sum() + (s * s).sum()).backward()
        got = (d.tolist(), s.tolist(), w.grad.tolist())
        if lib is cr:
            ours = got
        else:
            assert [list(map(lambda r: [round(v, 5) for v in r], m)) for m in ours] == \
                   [list(map(lambda r: [round(v, 5) for v in r], m)) for m in got]


def test_in_place_on_a_view_of_a_graph_tensor_reaches_the_gradient_as_in_pytorch():
    got = {}
    for lib in (cr, torch):
        a = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        h = a * 2
        h[0].mul_(0)  # basic-index views: the base is rebased (PyTorch's CopySlices)
        h[1][1:].add_(a[0, :2] * 3)  # a view of a view
        h[1, 0].add_(1)  # a 0-d view
        (h * h).sum().backward()
        got[lib] = (h.tolist(), a.grad.tolist())
        with pytest.raises(RuntimeError, match="leaf"):
            a[0].add_(1)
        with lib.no_grad():
            a[0].add_(1)  # under no_grad: a plain write, as an optimizer does
    assert got[cr] == got[torch]
    h = cr.ones(2, 3, requires_grad=True) * 2
    for change in (lambda: h.view(-1)[:2].zero_(), lambda: h.t().add_(1)):  # no base link: refused
        with pytest.raises(cr.AutogradError, match="view"):
            change()
    y = cr.softmax(h, 1)
    tmp = y[cr.tensor([0, 1]), cr.tensor([1, 2])]  # advanced indexing copies: its in-place change is its own
    tmp -= 1
    assert y.tolist()[0][1] == pytest.approx(1 / 3)


def test_format_any_all_floordiv_mod_and_random_like_of_integers():
    for lib in (cr, torch):
        x = lib.tensor([[-7.0, 7.5], [3.0, 0.0]])
        got = (f"{x.sum():.3f}", (x > 0).any(dim=1).tolist(), (x > -8).all(1, keepdim=True).tolist(),
               (x // 2).tolist(), (x % 2).tolist(), (7 // lib.tensor([2, -2])).tolist(),
               (lib.tensor([7, -7]) % 3).tolist())
        if lib is cr:
            ours = got
        else:
            assert ours == got
    with pytest.raises(TypeError):
        f"{cr.ones(2):.2f}"
    for make in (cr.rand_like, cr.randn_like):
        with pytest.raises(cr.DTypeError, match="dtype=torch.float"):
            make(cr.tensor([1, 2]))
        assert make(cr.tensor([1, 2]), dtype=cr.float32).dtype == cr.float32
