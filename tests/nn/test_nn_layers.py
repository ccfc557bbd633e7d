"""Every layer against PyTorch with the same weights: forward, input gradient, parameter gradients."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from nn_compare import compare_module

import chainrule as cr


def _x(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
def test_linear(bias, shape):
    compare_module(cr.nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias), _x(*shape))


@pytest.mark.parametrize("name,args", [
    ("ReLU", ()), ("Sigmoid", ()), ("Tanh", ()), ("GELU", ()), ("LeakyReLU", ()), ("LeakyReLU", (0.2,)),
    ("Softmax", (1,)), ("Softmax", (-1,)), ("LogSoftmax", (1,)), ("Flatten", ()), ("Flatten", (0, 1)),
    ("Identity", ()),
])
def test_parameter_free_layers(name, args):
    compare_module(getattr(cr.nn, name)(*args), getattr(torch.nn, name)(*args), _x(3, 4, 5) * 3)


def test_gelu_tanh():
    compare_module(cr.nn.GELU("tanh"), torch.nn.GELU("tanh"), _x(4, 6) * 3)


CONV_CASES = [
    dict(),
    dict(stride=2),
    dict(padding=1),
    dict(padding=(2, 1), stride=(2, 1)),
    dict(dilation=2, padding=2),
    dict(bias=False, stride=3, padding=1),
    dict(groups=2),
    dict(padding="same"),
    dict(padding="valid", dilation=(1, 2)),
]


@pytest.mark.parametrize("kw", CONV_CASES, ids=[str(k) for k in CONV_CASES])
@pytest.mark.parametrize("kernel", [3, (2, 3), 1])
def test_conv2d(kw, kernel):
    if kw.get("padding") == "same" and kernel == (2, 3):  # PyTorch pads unevenly here; chainrule refuses
        with pytest.raises(ValueError, match="unevenly"):
            cr.nn.Conv2d(4, 6, kernel, **kw)(cr.randn(1, 4, 5, 5))
        return
    compare_module(cr.nn.Conv2d(4, 6, kernel, **kw), torch.nn.Conv2d(4, 6, kernel, **kw), _x(2, 4, 9, 8),
                   rtol=1e-4, atol=1e-5)


def test_conv2d_errors():
    conv = cr.nn.Conv2d(3, 4, 3)
    with pytest.raises(cr.ShapeError, match=r"3 channels|expects 3"):
        conv(cr.randn(1, 2, 5, 5))
    with pytest.raises(cr.ShapeError, match=r"\(N, C, H, W\)"):
        conv(cr.randn(5, 5))  # (3, 5, 5) is one unbatched image, accepted as in PyTorch
    with pytest.raises(cr.ShapeError, match="larger than the padded input"):
        conv(cr.randn(1, 3, 2, 2))
    with pytest.raises(ValueError, match="same"):
        cr.nn.functional.conv2d(cr.randn(1, 3, 5, 5), cr.randn(4, 3, 2, 2), padding="same")


POOL_CASES = [dict(kernel_size=2), dict(kernel_size=3, stride=1), dict(kernel_size=3, stride=2, padding=1),
              dict(kernel_size=(2, 3), stride=(1, 2)), dict(kernel_size=2, ceil_mode=True),
              dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)]


@pytest.mark.parametrize("kw", POOL_CASES, ids=[str(k) for k in POOL_CASES])
def test_max_pool2d(kw):
    compare_module(cr.nn.MaxPool2d(**kw), torch.nn.MaxPool2d(**kw), _x(2, 3, 7, 8))


def test_max_pool2d_dilation_and_indices():
    compare_module(cr.nn.MaxPool2d(2, 1, dilation=2), torch.nn.MaxPool2d(2, 1, dilation=2), _x(2, 3, 7, 8))
    x = _x(2, 3, 6, 6)
    for ceil in (False, True):
        out, idx = cr.nn.functional.max_pool2d(cr.tensor(x), 3, 2, 1, ceil_mode=ceil, return_indices=True)
        tout, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1, ceil_mode=ceil, return_indices=True)
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        np.testing.assert_array_equal(out.numpy(), tout.numpy())


def test_max_pool2d_ties_send_gradient_to_one_input():
    x = cr.ones(1, 1, 4, 4, requires_grad=True)
    cr.nn.functional.max_pool2d(x, 2).sum().backward()
    tx = torch.ones(1, 1, 4, 4, requires_grad=True)
    torch.nn.functional.max_pool2d(tx, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


AVG_CASES = [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
             dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
             dict(kernel_size=(2, 3), divisor_override=4), dict(kernel_size=2, ceil_mode=True),
             dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
             dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)]


@pytest.mark.parametrize("kw", AVG_CASES, ids=[str(k) for k in AVG_CASES])
def test_avg_pool2d(kw):
    compare_module(cr.nn.AvgPool2d(**kw), torch.nn.AvgPool2d(**kw), _x(2, 3, 7, 8))


def test_pool_errors():
    with pytest.raises(ValueError, match="at most half"):
        cr.nn.functional.max_pool2d(cr.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(cr.ShapeError, match="does not fit"):
        cr.nn.functional.avg_pool2d(cr.randn(1, 1, 2, 2), 3)


@pytest.mark.parametrize("kw", [dict(), dict(momentum=0.3), dict(affine=False), dict(momentum=None),
                                dict(track_running_stats=False), dict(eps=1e-2), dict(bias=False)],
                         ids=["default", "momentum", "no-affine", "cumulative", "no-stats", "eps", "no-bias"])
def test_batchnorm2d_train_then_eval(kw):
    cm, tm = cr.nn.BatchNorm2d(3, **kw), torch.nn.BatchNorm2d(3, **kw)
    for step in range(3):  # three training batches update the running statistics alike
        compare_module(cm, tm, _x(4, 3, 5, 5, seed=step) * 2 + 1, rtol=1e-4, atol=1e-5)
        tm.zero_grad()
        cm.zero_grad()
    cm.eval()
    tm.eval()
    compare_module(cm, tm, _x(4, 3, 5, 5, seed=9), rtol=1e-4, atol=1e-5)
    if kw.get("track_running_stats", True):
        assert int(cm.num_batches_tracked.item()) == 3


@pytest.mark.parametrize("shape", [(8, 5), (6, 5, 4)])
def test_batchnorm1d(shape):
    cm, tm = cr.nn.BatchNorm1d(5), torch.nn.BatchNorm1d(5)
    with torch.no_grad():
        tm.weight.uniform_(0.5, 1.5)
        tm.bias.uniform_(-1, 1)
    compare_module(cm, tm, _x(*shape) * 3 - 1, rtol=1e-4, atol=1e-5)
    cm.eval()
    tm.eval()
    compare_module(cm, tm, _x(*shape, seed=4), rtol=1e-4, atol=1e-5)


def test_batchnorm_errors():
    with pytest.raises(cr.ShapeError, match="4D"):
        cr.nn.BatchNorm2d(3)(cr.randn(2, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        cr.nn.BatchNorm1d(3)(cr.randn(1, 3))


def test_functional_batch_norm_updates_running_stats_in_place():
    rm, rv = cr.zeros(3), cr.ones(3)
    ids = (id(rm.numpy()), id(rv.numpy()))
    x = _x(10, 3) * 2 + 5
    cr.nn.functional.batch_norm(cr.tensor(x), rm, rv, training=True, momentum=0.5)
    assert (id(rm.numpy()), id(rv.numpy())) == ids
    np.testing.assert_allclose(rm.numpy(), 0.5 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(rv.numpy(), 0.5 + 0.5 * x.var(0, ddof=1), rtol=1e-5)


@pytest.mark.parametrize("ns,kw", [(6, {}), ((4, 6), {}), (6, dict(elementwise_affine=False)),
                                   (6, dict(bias=False)), (6, dict(eps=0.1))])
def test_layernorm(ns, kw):
    cm, tm = cr.nn.LayerNorm(ns, **kw), torch.nn.LayerNorm(ns, **kw)
    if kw.get("elementwise_affine", True):
        with torch.no_grad():
            tm.weight.uniform_(0.5, 1.5)
            if tm.bias is not None:
                tm.bias.uniform_(-1, 1)
    compare_module(cm, tm, _x(3, 4, 6) * 2 + 1, rtol=1e-4, atol=1e-5)


def test_layernorm_shape_error():
    with pytest.raises(cr.ShapeError, match="normalized_shape"):
        cr.nn.LayerNorm(5)(cr.randn(2, 4))


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding(padding_idx):
    cm, tm = cr.nn.Embedding(7, 4, padding_idx=padding_idx), torch.nn.Embedding(7, 4, padding_idx=padding_idx)
    idx = np.array([[1, 2, 2, 6], [0, 6, 3, 2]])  # repeated indices accumulate
    compare_module(cm, tm, idx)
    if padding_idx is not None:
        assert not cm.weight.grad.numpy()[padding_idx].any()
        assert not cr.nn.Embedding(7, 4, padding_idx=padding_idx).weight.numpy()[padding_idx].any()


def test_embedding_errors():
    emb = cr.nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="embedding: .* out of range"):
        emb(cr.tensor([0, 5]))
    with pytest.raises(TypeError, match="integers"):
        emb(cr.tensor([0.0, 1.0]))


def test_dropout_train_and_eval():
    cr.manual_seed(0)
    d = cr.nn.Dropout(0.3)
    x = cr.ones(200, 100, requires_grad=True)
    y = d(x)
    vals = np.unique(y.numpy())
    np.testing.assert_allclose(vals, [0.0, 1 / 0.7], rtol=1e-6)
    frac = (y.numpy() == 0).mean()
    assert 0.28 < frac < 0.32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())  # the gradient is the same mask
    d.eval()
    assert d(x) is x
    assert cr.nn.functional.dropout(x, 1.0).numpy().sum() == 0
    with pytest.raises(ValueError, match="between 0 and 1"):
        cr.nn.Dropout(1.5)


def test_float64_layers_stay_float64():
    m = cr.nn.Sequential(cr.nn.Conv2d(2, 3, 3), cr.nn.BatchNorm2d(3), cr.nn.MaxPool2d(2), cr.nn.Flatten(),
                         cr.nn.LayerNorm(3), cr.nn.Linear(3, 2)).double()
    x = cr.tensor(np.random.default_rng(0).standard_normal((2, 2, 4, 4)), requires_grad=True)
    y = m(x)
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float64
    assert all(p.grad.dtype == np.float64 for p in m.parameters())


def test_small_cnn_end_to_end():
    def build(nn):
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(4, 8, 3), nn.GELU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8, 10))
    torch.manual_seed(0)
    compare_module(build(cr.nn), build(torch.nn), _x(3, 1, 8, 8), rtol=1e-4, atol=1e-5)


def test_mixed_float_dtypes_are_refused_not_mixed():
    x64 = cr.tensor(np.ones((2, 3, 4, 4)))
    with pytest.raises(cr.DTypeError, match=r"conv2d: input is float64 but the weights are float32"):
        cr.nn.Conv2d(3, 2, 3)(x64)
    with pytest.raises(cr.DTypeError, match="batch_norm"):
        cr.nn.BatchNorm2d(3)(x64)
    with pytest.raises(cr.DTypeError, match="layer_norm"):
        cr.nn.LayerNorm(4)(x64)
    y = cr.nn.Conv2d(3, 2, 3)(cr.tensor(np.ones((1, 3, 4, 4), dtype=np.int64)))  # integers are converted
    assert y.dtype == np.float32
    loss = cr.nn.MSELoss()(cr.randn(3, requires_grad=True), cr.tensor(np.ones(3)))
    assert loss.dtype == np.float32


def test_max_pool2d_window_of_padding_only():
    """Dilation can make a window hold only padding: its output is −inf and its gradient goes nowhere."""
    x = cr.tensor([[[[1.0, 2.0]]]], requires_grad=True)
    y = cr.nn.functional.max_pool2d(x, (2, 1), 1, (1, 0), (2, 1))
    assert y.shape == (1, 1, 1, 2) and np.isneginf(y.numpy()).all()
    y.backward(cr.ones(*y.shape))
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((1, 1, 1, 2), np.float32))
    x = cr.tensor(np.arange(9.0).reshape(1, 1, 3, 3), requires_grad=True)
    cr.nn.functional.max_pool2d(x, 2, 2, 1, 2).sum().backward()
    assert x.grad.numpy().sum() == 4  # the four windows that saw x send one gradient each


def test_embedding_from_pretrained():
    w = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    for freeze in (True, False):
        c = cr.nn.Embedding.from_pretrained(cr.tensor(w), freeze=freeze, padding_idx=1)
        t = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=freeze, padding_idx=1)
        assert c.weight.requires_grad == t.weight.requires_grad == (not freeze)
        idx = np.array([1, 3, 3])
        np.testing.assert_array_equal(c(cr.tensor(idx)).numpy(), t(torch.tensor(idx)).detach().numpy())


def test_batchnorm_reset_running_stats_like_torch():
    x = np.random.default_rng(5).standard_normal((8, 3)).astype(np.float32) * 4 + 2
    c, t = cr.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    c(cr.tensor(x))
    t(torch.tensor(x))
    assert c.running_mean.numpy().any() and int(c.num_batches_tracked.item()) == 1
    c.reset_running_stats()
    t.reset_running_stats()
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(c.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    cr.nn.BatchNorm1d(3, track_running_stats=False).reset_running_stats()  # nothing to reset: no error


def test_get_submodule_like_torch():
    def net(lib):
        return lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Linear(3, 1)))

    c, t = net(cr), net(torch)
    for name in ("", "0", "1", "1.1"):
        assert type(c.get_submodule(name)).__name__ == type(t.get_submodule(name)).__name__, name
    assert c.get_submodule("1.1") is c[1][1]
    for bad in ("2", "1.1.0", "0.weight"):
        with pytest.raises(AttributeError):
            t.get_submodule(bad)
        with pytest.raises(AttributeError, match=f"looking up '{bad}'"):
            c.get_submodule(bad)
