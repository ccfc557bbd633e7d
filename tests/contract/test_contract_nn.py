# ruff: noqa: B023  (the lambdas are called at once, inside the loop that binds their variables)
"""DESIGN.md "cr.nn": Module API, every listed layer and loss against torch.nn with the same weights
(forward, input and parameter gradients, state-dict keys and layouts), the functional forms,
cr.nn.init and clip_grad_norm_."""
from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch
from contract_util import compare, pair, randn

import chainrule as cr

nn, F = cr.nn, cr.nn.functional
TF = torch.nn.functional


def to_torch_state(module) -> dict:
    return {k: torch.tensor(np.array(v.numpy())) for k, v in module.state_dict().items()}


def check_layer(c_mod, t_mod, x: np.ndarray, rtol=2e-5, atol=2e-5, train=True) -> None:
    """Same weights into the torch layer; same output, input gradient and parameter gradients."""
    sd = c_mod.state_dict()
    tsd = t_mod.state_dict()
    assert list(sd) == list(tsd), f"state-dict keys {list(sd)} != torch {list(tsd)}"
    for k in sd:
        assert tuple(sd[k].shape) == tuple(tsd[k].shape), k
    t_mod.load_state_dict(to_torch_state(c_mod))
    c_mod.train(train)
    t_mod.train(train)
    xc, xt = pair(x)
    y, ty = c_mod(xc), t_mod(xt)
    assert y.shape == tuple(ty.shape) and y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol, atol=atol)
    up = np.random.default_rng(0).standard_normal(y.shape).astype(np.float32)
    y.backward(cr.tensor(up))
    ty.backward(torch.tensor(up))
    if xt.grad is not None:
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    tparams = dict(t_mod.named_parameters())
    for name, p in c_mod.named_parameters():
        assert isinstance(p, nn.Parameter) and p.requires_grad
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name)
    for k, v in c_mod.state_dict().items():  # buffers (running stats) updated alike
        np.testing.assert_allclose(v.numpy(), t_mod.state_dict()[k].numpy(), rtol=rtol, atol=atol, err_msg=k)


def x32(*shape, seed=0):
    return randn(*shape, seed=seed, dtype=np.float32)


def test_linear_shapes_init_and_values():
    cr.manual_seed(0)
    lin = nn.Linear(5, 3)
    assert lin.weight.shape == (3, 5) and lin.bias.shape == (3,) and lin.weight.dtype == np.float32
    bound = 1 / math.sqrt(5)  # PyTorch default: kaiming_uniform(a=√5) → U(-1/√in, 1/√in), bias too
    assert np.abs(lin.weight.numpy()).max() <= bound and np.abs(lin.bias.numpy()).max() <= bound
    big = nn.Linear(400, 300)
    assert abs(big.weight.numpy().std() - 1 / math.sqrt(400) / math.sqrt(3)) < 2e-3
    check_layer(lin, torch.nn.Linear(5, 3), x32(4, 5))
    check_layer(nn.Linear(5, 3, bias=False), torch.nn.Linear(5, 3, bias=False), x32(2, 7, 5))
    assert nn.Linear(2, 2, bias=False).bias is None
    check_layer(nn.Linear(in_features=4, out_features=2), torch.nn.Linear(4, 2), x32(4))


@pytest.mark.parametrize("name,args", [("ReLU", ()), ("Sigmoid", ()), ("Tanh", ()), ("GELU", ()),
                                       ("LeakyReLU", ()), ("LeakyReLU", (0.2,)), ("Softmax", (1,)),
                                       ("Softmax", (-1,)), ("Flatten", ()), ("GELU", ("tanh",))])
def test_activation_layers(name, args):
    x = x32(2, 3, 4, seed=1)
    check_layer(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), x)


def test_keyword_forms_of_layers():
    check_layer(nn.LeakyReLU(negative_slope=0.3), torch.nn.LeakyReLU(negative_slope=0.3), x32(5))
    check_layer(nn.Softmax(dim=0), torch.nn.Softmax(dim=0), x32(3, 2))
    check_layer(nn.Flatten(start_dim=0, end_dim=1), torch.nn.Flatten(start_dim=0, end_dim=1), x32(2, 3, 4))
    check_layer(nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh"), x32(5))


def test_dropout_train_and_eval():
    d = nn.Dropout(p=0.4)
    assert d.training
    x = cr.ones(2000)
    y = d(x).numpy()
    kept = y != 0
    assert 0.5 < kept.mean() < 0.7 and np.allclose(y[kept], 1 / 0.6)
    d.eval()
    assert not d.training
    np.testing.assert_array_equal(d(x).numpy(), x.numpy())
    np.testing.assert_array_equal(F.dropout(x, 0.5, training=False).numpy(), x.numpy())
    assert (F.dropout(x, p=1.0).numpy() == 0).all()
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    xg = cr.ones(100, requires_grad=True)
    out = F.dropout(xg, 0.5)
    out.sum().backward()
    np.testing.assert_array_equal(xg.grad.numpy(), out.detach().numpy())  # grad = mask / (1-p)


CONV_CASES = [dict(), dict(stride=2), dict(padding=1), dict(stride=(2, 1), padding=(0, 2)), dict(dilation=2),
              dict(bias=False), dict(padding=1, stride=2, dilation=(1, 2))]


@pytest.mark.parametrize("kw", CONV_CASES, ids=str)
def test_conv2d(kw):
    cr.manual_seed(1)
    c = nn.Conv2d(3, 4, 3, **kw)
    assert c.weight.shape == (4, 3, 3, 3)
    check_layer(c, torch.nn.Conv2d(3, 4, 3, **kw), x32(2, 3, 7, 6, seed=2), rtol=1e-4, atol=1e-5)
    check_layer(nn.Conv2d(2, 3, kernel_size=(2, 3), **kw), torch.nn.Conv2d(2, 3, kernel_size=(2, 3), **kw),
                x32(1, 2, 6, 7, seed=3), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=1), dict(kernel_size=3, stride=2,
                                padding=1), dict(kernel_size=(2, 3), stride=(1, 2))], ids=str)
def test_pooling(kw):
    x = x32(2, 3, 7, 6, seed=4)
    check_layer(nn.MaxPool2d(**kw), torch.nn.MaxPool2d(**kw), x)
    check_layer(nn.AvgPool2d(**kw), torch.nn.AvgPool2d(**kw), x)
    compare(lambda t: F.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), [x])
    compare(lambda t: F.avg_pool2d(t, **kw), lambda t: TF.avg_pool2d(t, **kw), [x])


def test_max_pool_ties_like_torch():
    x = np.ones((1, 1, 4, 4), dtype=np.float32)
    compare(lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), [x])


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 4)), ("BatchNorm1d", (5, 4, 3)),
                                       ("BatchNorm2d", (3, 4, 5, 2))])
def test_batchnorm_train_eval_state_dict(cls, shape):
    c, t = getattr(nn, cls)(4), getattr(torch.nn, cls)(4)
    assert list(c.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    with torch.no_grad():
        t.weight.copy_(torch.linspace(0.5, 1.5, 4))
        t.bias.copy_(torch.linspace(-1, 1, 4))
    c.load_state_dict({k: cr.tensor(v.numpy()) for k, v in t.state_dict().items()})
    for step in range(3):
        check_layer(c, t, x32(*shape, seed=5 + step), rtol=1e-4, atol=1e-5, train=True)
        c.zero_grad()
        t.zero_grad()
    sd = c.state_dict()
    assert sd["num_batches_tracked"].shape == () and sd["num_batches_tracked"].item() == 3
    assert sd["num_batches_tracked"].dtype == np.int64
    check_layer(c, t, x32(*shape, seed=9), rtol=1e-4, atol=1e-5, train=False)
    assert not c.training


def test_batchnorm_options():
    for kw in (dict(affine=False), dict(momentum=None), dict(track_running_stats=False), dict(eps=1e-3, momentum=0.3)):
        c, t = nn.BatchNorm1d(3, **kw), torch.nn.BatchNorm1d(3, **kw)
        for s in range(2):
            check_layer(c, t, x32(5, 3, seed=10 + s), rtol=1e-4, atol=1e-5)
        check_layer(c, t, x32(5, 3, seed=12), rtol=1e-4, atol=1e-5, train=False)


def test_functional_batch_norm_updates_running_stats_in_place():
    x = x32(8, 3, seed=13)
    rm, rv = cr.zeros(3), cr.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    rm_arr, rv_arr = rm.numpy(), rv.numpy()
    wa, ba = np.array([1.0, 2.0, 0.5], dtype=np.float32), np.array([0.1, -0.2, 0.3], dtype=np.float32)
    (xc, xt), (w, tw), (b, tb) = pair(x), pair(wa), pair(ba)
    y = F.batch_norm(xc, rm, rv, weight=w, bias=b, training=True, momentum=0.2, eps=1e-5)
    ty = TF.batch_norm(xt, trm, trv, weight=tw, bias=tb, training=True, momentum=0.2, eps=1e-5)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert np.shares_memory(rm.numpy(), rm_arr) and np.shares_memory(rv.numpy(), rv_arr)  # in place
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-5, atol=1e-6)
    up = randn(8, 3, seed=14, dtype=np.float32)
    y.backward(cr.tensor(up))
    ty.backward(torch.tensor(up))
    for c, t in ((xc, xt), (w, tw), (b, tb)):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-5)
    y2 = F.batch_norm(cr.tensor(x), rm, rv)  # positional, training=False by default: uses running stats
    ty2 = TF.batch_norm(torch.tensor(x), trm, trv)
    np.testing.assert_allclose(y2.numpy(), ty2.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ns,shape", [(5, (3, 5)), ((4, 5), (2, 4, 5)), ([5], (2, 3, 5))], ids=str)
def test_layer_norm(ns, shape):
    c, t = nn.LayerNorm(ns), torch.nn.LayerNorm(ns)
    with torch.no_grad():
        t.weight.uniform_(0.5, 1.5)
        t.bias.uniform_(-1, 1)
    c.load_state_dict({k: cr.tensor(v.numpy()) for k, v in t.state_dict().items()})
    check_layer(c, t, x32(*shape, seed=14), rtol=1e-4, atol=1e-5)
    check_layer(nn.LayerNorm(ns, elementwise_affine=False), torch.nn.LayerNorm(ns, elementwise_affine=False),
                x32(*shape, seed=15), rtol=1e-4, atol=1e-5)
    x = x32(*shape, seed=16)
    w = randn(*((ns,) if isinstance(ns, int) else ns), seed=17, dtype=np.float32)
    compare(lambda a, ww: F.layer_norm(a, ns, ww, None, 1e-5),
            lambda a, ww: TF.layer_norm(a, (ns,) if isinstance(ns, int) else ns, ww, None, 1e-5), [x, w],
            rtol=1e-4, atol=1e-5)


def test_embedding():
    cr.manual_seed(2)
    c = nn.Embedding(10, 4)
    assert c.weight.shape == (10, 4) and abs(float(c.weight.numpy().std()) - 1) < 0.6  # N(0, 1) init
    t = torch.nn.Embedding(10, 4)
    idx = np.array([[1, 3, 3], [9, 0, 1]])
    t.load_state_dict(to_torch_state(c))
    y, ty = c(cr.tensor(idx)), t(torch.tensor(idx))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy())
    up = randn(2, 3, 4, seed=18, dtype=np.float32)
    y.backward(cr.tensor(up))
    ty.backward(torch.tensor(up))
    np.testing.assert_allclose(c.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-6)
    w = pair(randn(10, 4, seed=19))
    ye, tye = F.embedding(cr.tensor(idx), w[0]), TF.embedding(torch.tensor(idx), w[1])
    np.testing.assert_allclose(ye.numpy(), tye.detach().numpy())
    pe, tpe = nn.Embedding(5, 2, padding_idx=0), torch.nn.Embedding(5, 2, padding_idx=0)
    assert np.all(pe.weight.numpy()[0] == 0)
    tpe.load_state_dict(to_torch_state(pe))
    pe(cr.tensor([0, 1, 0])).sum().backward()
    tpe(torch.tensor([0, 1, 0])).sum().backward()
    np.testing.assert_allclose(pe.weight.grad.numpy(), tpe.weight.grad.numpy())


# ------------------------------------------------------------------------------ losses
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_modules_and_functional(reduction):
    logits, tgt = x32(5, 4, seed=20), np.array([0, 3, 1, 1, 2])
    probs = np.random.default_rng(0).dirichlet(np.ones(4), 5).astype(np.float32)
    pred, target = x32(3, 2, seed=21), x32(3, 2, seed=22)
    bin_t = (np.random.default_rng(1).random((3, 2)) > 0.5).astype(np.float32)
    cases = [
        (nn.CrossEntropyLoss(reduction=reduction), torch.nn.CrossEntropyLoss(reduction=reduction), logits,
         tgt),
        (nn.CrossEntropyLoss(reduction=reduction), torch.nn.CrossEntropyLoss(reduction=reduction), logits,
         probs),
        (nn.NLLLoss(reduction=reduction), torch.nn.NLLLoss(reduction=reduction), np.log(probs), tgt),
        (nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), pred, target),
        (nn.BCEWithLogitsLoss(reduction=reduction), torch.nn.BCEWithLogitsLoss(reduction=reduction), pred,
         bin_t),
    ]
    for c_loss, t_loss, inp, tg in cases:
        compare(lambda a: c_loss(a, cr.tensor(tg)), lambda a: t_loss(a, torch.tensor(tg)), [inp])
    fcases = [(F.cross_entropy, TF.cross_entropy, logits, tgt), (F.cross_entropy, TF.cross_entropy, logits, probs),
              (F.nll_loss, TF.nll_loss, np.log(probs), tgt), (F.mse_loss, TF.mse_loss, pred, target),
              (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, pred, bin_t)]
    for cf, tf, inp, tg in fcases:
        compare(lambda a: cf(a, cr.tensor(tg), reduction=reduction),
                lambda a: tf(a, torch.tensor(tg), reduction=reduction), [inp])
    compare(lambda a, b: F.mse_loss(a, b, reduction=reduction), lambda a, b: TF.mse_loss(a, b, reduction=reduction),
            [pred, target])


def test_loss_extras_like_torch():
    logits, tgt = x32(6, 3, seed=23), np.array([0, 2, 1, 2, -100, 0])
    w = np.array([1.0, 2.0, 0.5], dtype=np.float32)
    compare(lambda a: F.cross_entropy(a, cr.tensor(tgt), weight=cr.tensor(w)),
            lambda a: TF.cross_entropy(a, torch.tensor(tgt), weight=torch.tensor(w)), [logits])
    compare(lambda a: nn.CrossEntropyLoss(label_smoothing=0.1)(a, cr.tensor(np.abs(tgt) % 3)),
            lambda a: torch.nn.CrossEntropyLoss(label_smoothing=0.1)(a, torch.tensor(np.abs(tgt) % 3)), [logits])
    compare(lambda a: F.cross_entropy(a, cr.tensor(x32(2, 3, 4, seed=24).argmax(1))),
            lambda a: TF.cross_entropy(a, torch.tensor(x32(2, 3, 4, seed=24).argmax(1))), [x32(2, 3, 4, seed=25)])
    pw = np.array([2.0, 0.5], dtype=np.float32)
    t = (x32(3, 2, seed=26) > 0).astype(np.float32)
    compare(lambda a: nn.BCEWithLogitsLoss(pos_weight=cr.tensor(pw))(a, cr.tensor(t)),
            lambda a: torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw))(a, torch.tensor(t)), [x32(3, 2, seed=27)])
    compare(lambda a: F.binary_cross_entropy_with_logits(a * 100, cr.tensor(t)),
            lambda a: TF.binary_cross_entropy_with_logits(a * 100, torch.tensor(t)), [x32(3, 2, seed=28)])
    compare(lambda a: F.cross_entropy(a * 1000, cr.tensor(tgt.clip(0))),
            lambda a: TF.cross_entropy(a * 1000, torch.tensor(tgt.clip(0))), [logits])


def test_loss_targets_and_input_grad_for_mse_target():
    a, b = x32(4, seed=29), x32(4, seed=30)
    compare(lambda u, v: nn.MSELoss()(u, v), lambda u, v: torch.nn.MSELoss()(u, v), [a, b])


def test_functional_activations_and_one_hot():
    x = x32(3, 4, seed=31)
    for name in ("relu", "sigmoid", "tanh", "gelu"):
        compare(getattr(F, name), getattr(TF, name) if hasattr(TF, name) else getattr(torch, name), [x])
    compare(lambda t: F.leaky_relu(t, 0.1), lambda t: TF.leaky_relu(t, 0.1), [x])
    compare(lambda t: F.softmax(t, dim=0), lambda t: TF.softmax(t, dim=0), [x])
    compare(lambda t: F.log_softmax(t, dim=1), lambda t: TF.log_softmax(t, dim=1), [x])
    w, b = x32(5, 4, seed=32), x32(5, seed=33)
    compare(F.linear, TF.linear, [x, w, b])
    compare(lambda u, v: F.linear(u, v), lambda u, v: TF.linear(u, v), [x, w])
    compare(lambda u, v, c: F.linear(u, v, bias=c), lambda u, v, c: TF.linear(u, v, bias=c), [x32(4, seed=34), w, b])
    oh, toh = F.one_hot(cr.tensor([0, 2, 1])), TF.one_hot(torch.tensor([0, 2, 1]))
    assert oh.dtype == np.int64 and oh.shape == (3, 3)
    np.testing.assert_array_equal(oh.numpy(), toh.numpy())
    np.testing.assert_array_equal(F.one_hot(cr.tensor([[1], [0]]), num_classes=4).numpy(),
                                  TF.one_hot(torch.tensor([[1], [0]]), num_classes=4).numpy())


def test_functional_conv2d():
    x, w, b = x32(2, 3, 6, 5, seed=35), x32(4, 3, 3, 2, seed=36), x32(4, seed=37)
    compare(F.conv2d, TF.conv2d, [x, w, b], rtol=1e-4, atol=1e-5)
    compare(lambda u, v: F.conv2d(u, v, stride=2, padding=1), lambda u, v: TF.conv2d(u, v, stride=2, padding=1),
            [x, w], rtol=1e-4, atol=1e-5)
    compare(lambda u, v, c: F.conv2d(u, v, c, 1, (1, 2), (2, 1)), lambda u, v, c: TF.conv2d(u, v, c, 1, (1, 2), (2, 1)),
            [x, w, b], rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------ Module API
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        self.norm = nn.BatchNorm1d(3)
        self.scale = nn.Parameter(cr.ones(3))
        self.register_buffer("offset", cr.zeros(3))

    def forward(self, x):
        return self.norm(self.body(x)) * self.scale + self.offset


class TNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        self.norm = torch.nn.BatchNorm1d(3)
        self.scale = torch.nn.Parameter(torch.ones(3))
        self.register_buffer("offset", torch.zeros(3))

    def forward(self, x):
        return self.norm(self.body(x)) * self.scale + self.offset


def test_module_api_matches_torch():
    net, tnet = Net(), TNet()
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert list(net.state_dict()) == list(tnet.state_dict())
    assert len(list(net.parameters())) == len(list(tnet.parameters()))
    assert [type(m).__name__ for m in net.children()] == ["Sequential", "BatchNorm1d"]
    assert [type(m).__name__ for m in net.modules()][1:] == [type(m).__name__ for m in tnet.modules()][1:]
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())
    net.train(False)
    assert not net.body[0].training
    net.train()
    check_layer(net, tnet, x32(6, 4, seed=40), rtol=1e-4, atol=1e-5)
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())  # set to None by default, as PyTorch
    y = net(cr.tensor(x32(6, 4, seed=41)))
    assert isinstance(y, cr.Tensor) and y.shape == (6, 3)
    assert isinstance(net.body, nn.Sequential) and len(net.body) == 3 and isinstance(net.body[1], nn.ReLU)


def test_state_dict_round_trip_with_torch_and_strict():
    net, tnet = Net(), TNet()
    tnet.load_state_dict(to_torch_state(net))
    net2 = Net()
    res = net2.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tnet.state_dict().items()})
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), net2.state_dict()[k].numpy())
    assert not getattr(res, "missing_keys", []) and not getattr(res, "unexpected_keys", [])
    sd = net.state_dict()
    sd.pop("scale")
    with pytest.raises(Exception, match="scale"):
        Net().load_state_dict(sd)
    res = Net().load_state_dict(sd, strict=False)
    assert list(res.missing_keys) == ["scale"]
    sd2 = dict(net.state_dict(), extra=cr.zeros(1))
    with pytest.raises(Exception, match="extra"):
        Net().load_state_dict(sd2, strict=True)
    bad = dict(net.state_dict())
    bad["body.0.weight"] = cr.zeros(2, 2)
    with pytest.raises(Exception, match=r"body\.0\.weight"):
        Net().load_state_dict(bad)
    st = net.state_dict()
    st["body.0.bias"].numpy()[...] = 0  # torch: state_dict tensors share the parameters' storage
    assert np.all(net.body[0].bias.numpy() == 0)


def test_sequential_state_dict_keys_match_torch():
    c = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    assert list(c.state_dict()) == list(t.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    check_layer(c, t, x32(5, 3, seed=42))
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(2 * 3 * 3, 4), nn.LayerNorm(4), nn.GELU(), nn.Dropout(0.0))
    tconv = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(),
                                torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(18, 4),
                                torch.nn.LayerNorm(4), torch.nn.GELU(), torch.nn.Dropout(0.0))
    check_layer(conv, tconv, x32(3, 1, 8, 8, seed=43), rtol=1e-4, atol=1e-5)


def test_parameter_and_register_buffer():
    p = nn.Parameter(cr.tensor([1.0, 2.0]))
    assert isinstance(p, cr.Tensor) and p.requires_grad and p.is_leaf
    assert not nn.Parameter(cr.zeros(2), requires_grad=False).requires_grad
    m = nn.Module()
    m.register_buffer("b", cr.ones(2))
    m.w = nn.Parameter(cr.zeros(2))
    assert list(m.state_dict()) == ["w", "b"]  # torch: parameters first, then buffers
    assert [n for n, _ in m.named_parameters()] == ["w"]
    m.register_buffer("tmp", cr.ones(1), persistent=False)
    assert "tmp" not in m.state_dict()
    with pytest.raises(NotImplementedError):
        nn.Module()(cr.zeros(1))


# ------------------------------------------------------------------------------ init, utils
def test_init_names_and_statistics():
    init = nn.init
    for name in ("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "normal_",
                 "uniform_", "zeros_", "ones_"):
        assert callable(getattr(init, name)), name
    cr.manual_seed(0)
    w = cr.empty(300, 200)
    assert init.xavier_uniform_(w) is w
    bound = math.sqrt(6 / 500)
    assert np.abs(w.numpy()).max() <= bound and abs(w.numpy().std() - bound / math.sqrt(3)) < 2e-3
    init.xavier_normal_(w, gain=2.0)
    assert abs(w.numpy().std() - 2 * math.sqrt(2 / 500)) < 2e-3
    init.kaiming_uniform_(w, a=0, mode="fan_in", nonlinearity="relu")
    assert abs(w.numpy().std() - math.sqrt(2 / 200)) < 3e-3
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.numpy().std() - math.sqrt(2 / 300)) < 3e-3
    init.normal_(w, mean=1.0, std=0.5)
    assert abs(w.numpy().mean() - 1) < 0.01 and abs(w.numpy().std() - 0.5) < 0.01
    init.uniform_(w, a=-2.0, b=-1.0)
    assert w.numpy().min() >= -2 and w.numpy().max() <= -1
    init.zeros_(w)
    assert not w.numpy().any()
    init.ones_(w)
    assert (w.numpy() == 1).all() and w.dtype == np.float32
    c = cr.empty(8, 4, 3, 3)
    init.kaiming_uniform_(c, a=math.sqrt(5))
    assert np.abs(c.numpy()).max() <= 1 / math.sqrt(36) + 1e-7
    p = nn.Linear(3, 2).weight
    init.zeros_(p)  # on a Parameter that requires grad: allowed (runs without recording)
    assert not p.numpy().any() and p.requires_grad and p.is_leaf


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf")])
def test_clip_grad_norm_like_torch(norm_type):
    c = [nn.Parameter(cr.tensor(randn(3, 2, seed=44, dtype=np.float32))),
         nn.Parameter(cr.tensor(randn(4, seed=45, dtype=np.float32)))]
    t = [torch.nn.Parameter(torch.tensor(p.numpy().copy())) for p in c]
    grads = [randn(3, 2, seed=46, dtype=np.float32) * 3, randn(4, seed=47, dtype=np.float32)]
    for p, tp, g in zip(c, t, grads):
        p.grad, tp.grad = cr.tensor(g), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(c, max_norm=1.0, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(t, max_norm=1.0, norm_type=norm_type)
    assert isinstance(total, cr.Tensor) and total.shape == ()
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-5)
    for p, tp in zip(c, t):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-7)
    small = nn.Parameter(cr.zeros(2))
    small.grad = cr.tensor([0.1, 0.1])
    nn.utils.clip_grad_norm_(small, 5.0)  # a single tensor; under max_norm: unchanged
    np.testing.assert_allclose(small.grad.numpy(), [0.1, 0.1])
    assert "max_norm" in inspect.signature(nn.utils.clip_grad_norm_).parameters


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_every_target_ignored_nan_loss_zero_gradient_like_torch(smoothing, weighted):
    logits, tgt = x32(5, 4, seed=50), np.full(5, -100)
    w = np.array([1.0, 2.0, 0.5, 1.5], dtype=np.float32)
    (xc, xt) = pair(logits)
    with np.errstate(all="ignore"):
        y = F.cross_entropy(xc, cr.tensor(tgt), weight=cr.tensor(w) if weighted else None, label_smoothing=smoothing)
        y.backward()
    ty = TF.cross_entropy(xt, torch.tensor(tgt), weight=torch.tensor(w) if weighted else None,
                          label_smoothing=smoothing)
    ty.backward()
    assert np.isnan(y.item()) and np.isnan(ty.item())
    np.testing.assert_array_equal(xc.grad.numpy(), xt.grad.numpy())  # zeros, not NaN
    xn = cr.tensor(logits, requires_grad=True)
    with np.errstate(all="ignore"):
        F.nll_loss(xn, cr.tensor(tgt)).backward()
    assert not xn.grad.numpy().any()


def test_unbatched_chw_input_like_torch():
    x, w, b = x32(3, 7, 6, seed=51), x32(4, 3, 3, 3, seed=52), x32(4, seed=53)
    compare(F.conv2d, TF.conv2d, [x, w, b], rtol=1e-4, atol=1e-5)
    compare(lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), [x])
    compare(lambda t: F.avg_pool2d(t, 3, 2, 1), lambda t: TF.avg_pool2d(t, 3, 2, 1), [x])
    out, idx = F.max_pool2d(cr.tensor(x), 2, return_indices=True)
    tout, tidx = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    c = nn.Conv2d(3, 2, 3)
    t = torch.nn.Conv2d(3, 2, 3)
    t.load_state_dict(to_torch_state(c))
    np.testing.assert_allclose(c(cr.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_shared_module_state_dict_keys_like_torch():
    lin, tlin = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    c, t = nn.Sequential(lin, nn.ReLU(), lin), torch.nn.Sequential(tlin, torch.nn.ReLU(), tlin)
    assert list(c.state_dict()) == list(t.state_dict())
    assert len(list(c.parameters())) == len(list(t.parameters())) == 2  # parameters() does not repeat them
    check_layer(c, t, x32(3, 2, seed=54))
    c.load_state_dict({k: cr.tensor(v.numpy()) for k, v in t.state_dict().items()})  # strict: no unexpected keys


@pytest.mark.parametrize("kw", [dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, stride=2),
                                dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0))], ids=str)
def test_pooling_ceil_mode_like_torch(kw):
    x = x32(2, 3, 7, 6, seed=55)
    compare(lambda t: F.max_pool2d(t, ceil_mode=True, **kw), lambda t: TF.max_pool2d(t, ceil_mode=True, **kw), [x])
    for cip in (True, False):
        compare(lambda t: F.avg_pool2d(t, ceil_mode=True, count_include_pad=cip, **kw),
                lambda t: TF.avg_pool2d(t, ceil_mode=True, count_include_pad=cip, **kw), [x])
    check_layer(nn.MaxPool2d(ceil_mode=True, **kw), torch.nn.MaxPool2d(ceil_mode=True, **kw), x)
    check_layer(nn.AvgPool2d(ceil_mode=True, **kw), torch.nn.AvgPool2d(ceil_mode=True, **kw), x)
