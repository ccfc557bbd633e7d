"""Module machinery: registration, traversal, state dicts (PyTorch's keys), strict loading, modes, repr."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import chainrule as cr


def _mlp(nn):
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def _cnn(nn):
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 10), nn.BatchNorm1d(10), nn.LayerNorm(10),
                         nn.Dropout(0.1))


@pytest.mark.parametrize("build", [_mlp, _cnn], ids=["mlp", "cnn"])
def test_state_dict_keys_shapes_dtypes_equal_torch(build):
    c, t = build(cr.nn).state_dict(), build(torch.nn).state_dict()
    assert list(c) == list(t)
    for k in t:
        assert c[k].shape == tuple(t[k].shape), k
        assert str(c[k].dtype) == str(t[k].dtype).replace("torch.", "chainrule."), k


def test_nested_module_names_equal_torch():
    def build(nn):
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(2, 2, 3)
                self.bn = nn.BatchNorm2d(2)
                self.scale = nn.Parameter(cr.ones(2) if nn is cr.nn else torch.ones(2))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = nn.Linear(3, 3)
                self.blocks = nn.ModuleList([Block(), Block()])
                self.head = nn.Sequential(nn.Linear(3, 2))
        return Net()

    c, t = build(cr.nn), build(torch.nn)
    assert list(c.state_dict()) == list(t.state_dict())
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in c.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in c.named_children()] == [n for n, _ in t.named_children()]
    assert [n for n, _ in c.named_buffers()] == [n for n, _ in t.named_buffers()]


def test_weights_round_trip_with_torch_same_predictions():
    torch.manual_seed(0)
    t = _cnn(torch.nn).eval()
    c = _cnn(cr.nn).eval()
    with torch.no_grad():  # make the running statistics non-trivial
        t[1].running_mean.uniform_(-1, 1)
        t[1].running_var.uniform_(0.5, 2)
    c.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8)).astype(np.float32)
    with cr.no_grad():
        y = c(cr.tensor(x)).numpy()
    np.testing.assert_allclose(y, t(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    t2 = _cnn(torch.nn).eval()
    t2.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in c.state_dict().items()})
    np.testing.assert_allclose(t2(torch.tensor(x)).detach().numpy(), y, rtol=1e-4, atol=1e-5)


def test_load_state_dict_strict_errors_name_keys_and_shapes():
    m = _mlp(cr.nn)
    sd = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    missing = dict(sd)
    del missing["2.bias"]
    with pytest.raises(cr.nn.StateDictError, match=r'Missing key\(s\) in state_dict: "2.bias"'):
        m.load_state_dict(missing)
    extra = dict(sd, **{"3.weight": np.zeros(2)})
    with pytest.raises(cr.nn.StateDictError, match=r'Unexpected key\(s\) in state_dict: "3.weight"'):
        m.load_state_dict(extra)
    bad = dict(sd, **{"0.weight": np.zeros((8, 5), np.float32)})
    with pytest.raises(cr.nn.StateDictError, match=r"size mismatch for 0.weight.*\(8, 5\).*\(8, 4\)"):
        m.load_state_dict(bad)
    with pytest.raises(cr.nn.StateDictError, match="size mismatch"):
        m.load_state_dict(bad, strict=False)  # shapes are checked even when not strict
    before = m[0].weight.numpy().copy()
    result = m.load_state_dict(dict(extra, **{"0.weight": before + 1}), strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == ["3.weight"]
    np.testing.assert_array_equal(m[0].weight.numpy(), before + 1)


def test_load_state_dict_copies_in_place_and_casts():
    m = _mlp(cr.nn)
    w = m[0].weight
    arr = w.numpy()
    opt = cr.optim.SGD(m.parameters(), lr=0.1)
    m.load_state_dict({k: v.numpy().astype(np.float64) for k, v in _mlp(cr.nn).state_dict().items()})
    assert m[0].weight is w and w.numpy() is arr and w.dtype == np.float32
    assert opt.param_groups[0]["params"][0] is w


def test_state_dict_shares_memory_and_keep_vars():
    m = _mlp(cr.nn)
    sd = m.state_dict()
    assert np.shares_memory(sd["0.weight"].numpy(), m[0].weight.numpy())
    assert not sd["0.weight"].requires_grad
    assert m.state_dict(keep_vars=True)["0.weight"] is m[0].weight


def test_registration_and_traversal():
    class Net(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = cr.nn.Linear(2, 2)
            self.shared = self.a  # the same module twice is listed once
            self.w = cr.nn.Parameter(cr.zeros(3))
            self.register_buffer("count", cr.zeros(1))
            self.register_buffer("scratch", cr.zeros(1), persistent=False)
            self.plain = cr.zeros(2)  # a plain tensor attribute is not state

        def forward(self, x):
            return self.a(x)

    n = Net()
    assert [k for k, _ in n.named_parameters()] == ["w", "a.weight", "a.bias"]
    assert len(list(n.parameters())) == 3
    # as in PyTorch, state_dict names a module used twice under both names
    assert list(n.state_dict()) == ["w", "count", "a.weight", "a.bias", "shared.weight", "shared.bias"]
    assert [k for k, _ in n.named_buffers()] == ["count", "scratch"]
    assert len(list(n.modules())) == 2 and len(list(n.children())) == 1
    n.b = cr.nn.Linear(2, 1)
    assert len(list(n.parameters())) == 5  # the cached list follows new registrations
    del n.b
    assert len(list(n.parameters())) == 3
    n.w = None
    assert [k for k, _ in n.named_parameters()] == ["a.weight", "a.bias"]
    with pytest.raises(TypeError, match="Parameter or None"):
        n.a.weight = cr.zeros(2, 2)


def test_assignment_before_init_is_a_clear_error():
    class Bad(cr.nn.Module):
        def __init__(self):
            self.lin = cr.nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_train_eval_propagate():
    m = _cnn(cr.nn)
    assert m.training and all(x.training for x in m.modules())
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())


def test_zero_grad_default_sets_none():
    m = _mlp(cr.nn)
    m(cr.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_sequential_indexing_len_iteration():
    m = _mlp(cr.nn)
    assert len(m) == 3
    assert isinstance(m[0], cr.nn.Linear) and m[-1] is m[2]
    assert [type(x).__name__ for x in m] == ["Linear", "ReLU", "Linear"]
    head = m[1:]
    assert isinstance(head, cr.nn.Sequential) and list(head.state_dict()) == ["2.weight", "2.bias"]
    x = cr.randn(3, 4)
    np.testing.assert_array_equal(m(x).numpy(), m[2](m[1](m[0](x))).numpy())
    m.append(cr.nn.Tanh())
    assert len(m) == 4 and isinstance(m(x), cr.Tensor)
    with pytest.raises(IndexError, match="out of range"):
        m[7]
    with pytest.raises(TypeError, match="not a cr.nn.Module"):
        cr.nn.Sequential(cr.nn.Linear(1, 1), lambda x: x)


def test_repr_matches_torch():
    assert repr(_cnn(cr.nn)) == repr(_cnn(torch.nn))
    assert repr(_mlp(cr.nn)) == repr(_mlp(torch.nn))
    for name in ("MSELoss", "CrossEntropyLoss", "GELU", "LeakyReLU", "Sigmoid"):
        assert repr(getattr(cr.nn, name)()) == repr(getattr(torch.nn, name)())
    p = cr.nn.Parameter(cr.zeros(2))
    assert repr(p).startswith("Parameter containing:")


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = cr.nn.Parameter(cr.ones(2, 3))
    assert isinstance(p, cr.Tensor) and p.requires_grad and p.is_leaf
    assert not cr.nn.Parameter(cr.ones(1), requires_grad=False).requires_grad
    y = (p * 2).sum()
    y.backward()
    np.testing.assert_array_equal(p.grad.numpy(), np.full((2, 3), 2, np.float32))
    arr = np.ones(3, np.float32)
    assert cr.nn.Parameter(arr).numpy() is arr  # wraps without copying, as torch.nn.Parameter


def test_copy_and_pickle():
    m = _cnn(cr.nn)
    m2 = copy.deepcopy(m)
    m3 = pickle.loads(pickle.dumps(m))
    for other in (m2, m3):
        assert list(other.state_dict()) == list(m.state_dict())
        assert other[0].weight is not m[0].weight
        assert isinstance(other[0].weight, cr.nn.Parameter)
        np.testing.assert_array_equal(other[0].weight.numpy(), m[0].weight.numpy())
        assert len(list(other.parameters())) == len(list(m.parameters()))


def test_module_double_and_requires_grad():
    m = _mlp(cr.nn).double()
    assert all(p.dtype == np.float64 for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_clip_grad_norm_matches_torch():
    for norm_type, max_norm in ((2.0, 0.5), (1.0, 0.3), (float("inf"), 0.05), (2.0, 1e6)):
        torch.manual_seed(0)
        t = _mlp(torch.nn)
        c = _mlp(cr.nn)
        c.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
        x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
        t(torch.tensor(x)).pow(2).sum().backward()
        (c(cr.tensor(x)) ** 2).sum().backward()
        tn = torch.nn.utils.clip_grad_norm_(t.parameters(), max_norm, norm_type)
        cn = cr.nn.utils.clip_grad_norm_(c.parameters(), max_norm, norm_type)
        assert cn.dtype == np.float32
        np.testing.assert_allclose(cn.item(), tn.item(), rtol=1e-5)
        for (k, p), tp in zip(c.named_parameters(), t.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-7, err_msg=k)


def test_clip_grad_norm_with_aliased_gradients_scales_once():
    a, b = cr.nn.Parameter(cr.ones(2)), cr.nn.Parameter(cr.ones(2))
    shared = cr.tensor([3.0, 4.0])
    a.grad = shared
    b.grad = shared
    total = cr.nn.utils.clip_grad_norm_([a, b], 1.0)
    np.testing.assert_allclose(total.item(), np.sqrt(50), rtol=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), np.array([3, 4]) / np.sqrt(50), rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy())
    with pytest.raises(cr.AutogradError, match="non-finite"):  # a RuntimeError, as PyTorch's
        a.grad = cr.tensor([float("nan"), 0.0])
        cr.nn.utils.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_and_parameter_vectors_match_torch():
    torch.manual_seed(0)
    t = _mlp(torch.nn)
    c = _mlp(cr.nn)
    c.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    t(torch.tensor(x)).pow(2).sum().backward()
    (c(cr.tensor(x)) ** 2).sum().backward()
    torch.nn.utils.clip_grad_value_(t.parameters(), 0.05)
    cr.nn.utils.clip_grad_value_(c.parameters(), 0.05)
    for (k, p), tp in zip(c.named_parameters(), t.parameters()):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-7, err_msg=k)
    assert max(np.abs(p.grad.numpy()).max() for p in c.parameters()) == pytest.approx(0.05)

    tv = torch.nn.utils.parameters_to_vector(t.parameters()).detach()
    cv = cr.nn.utils.parameters_to_vector(c.parameters())
    np.testing.assert_array_equal(cv.numpy(), tv.numpy())
    new = np.arange(cv.numel(), dtype=np.float32) / 100
    torch.nn.utils.vector_to_parameters(torch.tensor(new), t.parameters())
    cr.nn.utils.vector_to_parameters(cr.tensor(new), c.parameters())
    for (k, p), tp in zip(c.named_parameters(), t.parameters()):
        np.testing.assert_array_equal(p.numpy(), tp.detach().numpy(), err_msg=k)
    with pytest.raises(cr.ShapeError, match=rf"hold {new.size} values, but vec has shape \(3,\)"):
        cr.nn.utils.vector_to_parameters(cr.tensor(new[:3]), c.parameters())
    with pytest.raises(TypeError, match="expected a Tensor"):
        cr.nn.utils.vector_to_parameters(new, c.parameters())


def test_apply_visits_children_before_parents_as_torch():
    def names(lib):
        net = lib.nn.Sequential(lib.nn.Sequential(lib.nn.Linear(1, 1), lib.nn.ReLU()), lib.nn.Tanh())
        seen = []
        net.apply(lambda m: seen.append(type(m).__name__))
        return seen

    assert names(cr) == names(torch) == ["Linear", "ReLU", "Sequential", "Tanh", "Sequential"]


def test_batchnorm_checkpoint_without_num_batches_tracked_loads_like_torch():
    sd = {k: v.numpy() for k, v in torch.nn.BatchNorm2d(3).state_dict().items() if "num_batches" not in k}
    torch.nn.BatchNorm2d(3).load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})  # PyTorch accepts it
    result = cr.nn.BatchNorm2d(3).load_state_dict(sd)
    assert result.missing_keys == []


def test_forward_hooks_see_and_replace_inputs_and_outputs():
    m = _mlp(cr.nn)
    x = cr.randn(2, 4)
    seen = []
    h1 = m[0].register_forward_hook(lambda mod, args, out: seen.append((type(mod).__name__, out.shape)))
    h2 = m[1].register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    y = m(x)
    assert seen == [("Linear", (2, 8))]
    np.testing.assert_allclose(y.numpy(), np.broadcast_to(m[2].bias.numpy(), (2, 3)), rtol=1e-6)
    h1.remove()
    h2.remove()
    assert m[0]._hooks is None and m[1]._hooks is None  # removed: back to the plain call
    np.testing.assert_array_equal(m(x).numpy(), m[2](m[1](m[0](x))).numpy())
    assert len(seen) == 1
    with m.register_forward_hook(lambda mod, args, out: out * 2):
        np.testing.assert_allclose(m(x).numpy(), 2 * m[2](m[1](m[0](x))).numpy(), rtol=1e-6)
    assert m._hooks is None
