"""An in-place change of a view while gradients are recorded: right, or a clear error (issue 12).

PyTorch rebases the view's base onto the new history; chainrule does not track
views, so where another tensor can see the memory it refuses instead of
changing that tensor's values behind its gradient (which it used to do silently).
"""
import numpy as np
import pytest
import torch

import chainrule as cr

CHANGES = [
    ("view", lambda h: h.view(-1)[:2].zero_()),
    ("transpose", lambda h: h.T.add_(1)),
    ("a sibling view is held", lambda h, keep=[]: (keep.append(h[1]), h[0].mul_(0))),
]


@pytest.mark.parametrize("name,change", CHANGES, ids=[c[0] for c in CHANGES])
def test_changing_a_view_of_a_live_graph_tensor_is_an_error(name, change):
    x = cr.ones(2, 3, requires_grad=True)
    h = x * 2
    before = h.numpy().copy()
    with pytest.raises(cr.AutogradError, match="view.*(gradient|graph)"):
        change(h)
    np.testing.assert_array_equal(h.numpy(), before)  # refused before anything was written
    with cr.no_grad():
        change(h)  # outside recording it is an ordinary write, as in PyTorch


def test_a_view_of_a_tensor_without_grad_given_a_grad_operand_is_an_error():
    w = cr.ones(6, requires_grad=True)
    buf = cr.zeros(2, 3)
    with pytest.raises(cr.AutogradError, match="a view"):
        buf.view(6).add_(w)
    assert not buf.numpy().any()


ROW_CHANGES = [
    ("row", lambda lib, h, w: h[0].mul_(w)),
    ("chain", lambda lib, h, w: h[1][1:].add_(w[1:])),
]


@pytest.mark.parametrize("name,change", ROW_CHANGES, ids=[c[0] for c in ROW_CHANGES])
def test_a_basic_index_view_changed_in_place_rebases_its_base_like_torch(name, change):
    grads = []
    for lib in (cr, torch):
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        h = x * 2
        change(lib, h, w)
        (h * h).sum().backward()
        grads.append((h.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs)


def test_a_view_nothing_else_holds_changes_in_place_with_the_right_gradient():
    grads = []
    for lib in (cr, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        v = (x * 2).view(4)  # the product itself is not kept: only the view sees the memory
        v.mul_(v.detach() + 1)
        (v * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        grads.append(x.grad.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1])


def test_in_place_on_an_ordinary_graph_tensor_still_records():
    grads = []
    for lib in (cr, torch):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * 3
        y.add_(1)
        y.mul_(2)
        (y * y).sum().backward()
        grads.append(x.grad.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1])


def test_where_torch_refuses_a_saved_output_changed_chainrule_gives_the_out_of_place_gradient():
    """chainrule's in-place ops record on a copy, so relu's saved output is not the changed memory."""
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = (x * 3).relu_()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    reference = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    ((reference * 3).relu() + 1).pow(2).sum().backward()
    ours = cr.tensor([1.0, -2.0, 3.0], requires_grad=True)
    z = (ours * 3).relu_()
    z.add_(1)
    z.pow(2).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), reference.grad.numpy())


def test_a_row_of_a_buffer_without_grad_takes_the_history_of_what_is_added_like_torch():
    grads = []
    for lib in (cr, torch):
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        buf = lib.ones(2, 3)
        buf[1].add_(w * w)
        (buf * lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
        grads.append((buf.detach().numpy(), w.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs)
