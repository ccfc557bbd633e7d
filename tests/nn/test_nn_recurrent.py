"""RNN, LSTM, GRU and their cells against PyTorch: parameter names and shapes, outputs, final states and
every gradient (input, initial state, each weight), with torch's weights loaded into chainrule."""
import numpy as np
import pytest
import torch
from nn_compare import copy_weights

import chainrule as cr

CONFIGS = [
    ("LSTM", {}), ("GRU", {}), ("RNN", {}), ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("GRU", {"num_layers": 2, "bidirectional": True}), ("RNN", {"num_layers": 2, "batch_first": True}),
    ("LSTM", {"proj_size": 2}), ("LSTM", {"bias": False, "num_layers": 2}), ("GRU", {"bias": False}),
]


def _pair(cls, kw, size=(3, 4)):
    torch.manual_seed(0)
    tm = getattr(torch.nn, cls)(*size, **kw)
    cm = getattr(cr.nn, cls)(*size, **kw)
    copy_weights(cm, tm)
    return cm, tm


def _close(c, t, what, tol=1e-5):
    assert c.shape == tuple(t.shape), (what, c.shape, tuple(t.shape))
    np.testing.assert_allclose(c.numpy(), t.detach().numpy(), rtol=tol, atol=tol, err_msg=what)


def _states(out):
    """(output, [final states]) of an RNN/GRU ((out, h)) or an LSTM ((out, (h, c)))."""
    o, s = out
    return o, (list(s) if isinstance(s, tuple) else [s])


@pytest.mark.parametrize("cls,kw", CONFIGS, ids=[f"{c}-{k}" for c, k in CONFIGS])
def test_sequence_layers_match_pytorch_with_initial_state(cls, kw):
    cm, tm = _pair(cls, kw)
    assert repr(cm) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in cm.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 3) if kw.get("batch_first") else (5, 2, 3)).astype(np.float32)
    dirs = 2 if kw.get("bidirectional") else 1
    k = kw.get("num_layers", 1) * dirs
    h = rng.standard_normal((k, 2, kw.get("proj_size") or 4)).astype(np.float32)
    c = rng.standard_normal((k, 2, 4)).astype(np.float32)
    cins = [cr.tensor(a, requires_grad=True) for a in (x, h, c)]
    tins = [torch.tensor(a, requires_grad=True) for a in (x, h, c)]
    if cls == "LSTM":
        cout, tout = cm(cins[0], (cins[1], cins[2])), tm(tins[0], (tins[1], tins[2]))
    else:
        cout, tout = cm(cins[0], cins[1]), tm(tins[0], tins[1])
    (co, cs), (to, ts) = _states(cout), _states(tout)
    _close(co, to, "output")
    for a, b in zip(cs, ts):
        _close(a, b, "final state")
    ups = [rng.standard_normal(t.shape).astype(np.float32) for t in [to] + ts]
    sum((a * cr.tensor(u)).sum() for a, u in zip([co] + cs, ups)).backward()
    sum((a * torch.tensor(u)).sum() for a, u in zip([to] + ts, ups)).backward()
    for i, (a, b) in enumerate(zip(cins, tins)):
        if cls != "LSTM" and i == 2:
            continue
        _close(a.grad, b.grad, f"gradient of input {i}", 1e-4)
    tp = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        _close(p.grad, tp[name].grad, f"gradient of {name}", 1e-4)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_zero_initial_state_and_unbatched_input_match_pytorch(cls):
    cm, tm = _pair(cls, {"num_layers": 2})
    x = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)  # (L, H_in): no batch axis
    (co, cs), (to, ts) = _states(cm(cr.tensor(x))), _states(tm(torch.tensor(x)))
    _close(co, to, "output")
    assert co.shape == (4, 4)
    for a, b in zip(cs, ts):
        _close(a, b, "final state")
        assert a.shape == (2, 4)


@pytest.mark.parametrize("cls", ["LSTMCell", "GRUCell", "RNNCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_pytorch(cls, batched):
    torch.manual_seed(0)
    kw = {"nonlinearity": "relu"} if cls == "RNNCell" and batched else {}
    tm, cm = getattr(torch.nn, cls)(3, 4, **kw), getattr(cr.nn, cls)(3, 4, **kw)
    copy_weights(cm, tm)
    assert repr(cm) == repr(tm)
    rng = np.random.default_rng(3)
    lead = (2,) if batched else ()
    x, h, c = (rng.standard_normal(lead + (n,)).astype(np.float32) for n in (3, 4, 4))
    cins = [cr.tensor(a, requires_grad=True) for a in (x, h, c)]
    tins = [torch.tensor(a, requires_grad=True) for a in (x, h, c)]
    if cls == "LSTMCell":
        cout, tout = cm(cins[0], (cins[1], cins[2])), tm(tins[0], (tins[1], tins[2]))
    else:
        cout, tout = (cm(cins[0], cins[1]),), (tm(tins[0], tins[1]),)
    for a, b in zip(cout, tout):
        _close(a, b, "cell output")
    sum(a.sum() * (i + 1) for i, a in enumerate(cout)).backward()
    sum(a.sum() * (i + 1) for i, a in enumerate(tout)).backward()
    for i, (a, b) in enumerate(zip(cins, tins)):
        if b.grad is not None:
            _close(a.grad, b.grad, f"gradient of input {i}", 1e-4)
    tp = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        _close(p.grad, tp[name].grad, f"gradient of {name}", 1e-4)
    out0 = cm(cr.tensor(x))  # no state: zeros, as PyTorch
    tout0 = tm(torch.tensor(x))
    for a, b in zip(out0 if isinstance(out0, tuple) else (out0,), tout0 if isinstance(tout0, tuple) else (tout0,)):
        _close(a, b, "cell output from zero state")


def test_a_cell_loop_equals_the_sequence_layer():
    """The same weights stepped by LSTMCell give LSTM's output (the two share the step)."""
    lstm = cr.nn.LSTM(3, 4)
    cell = cr.nn.LSTMCell(3, 4)
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = cr.randn(5, 2, 3)
    out, (h, c) = lstm(x)
    hc = None
    for t in range(5):
        hc = cell(x[t], hc)
        np.testing.assert_allclose(hc[0].numpy(), out[t].numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(hc[1].numpy(), c[0].numpy(), rtol=1e-6, atol=1e-6)


def test_initialisation_is_uniform_in_one_over_sqrt_hidden():
    m = cr.nn.GRU(5, 16, num_layers=2)
    values = np.concatenate([p.numpy().ravel() for p in m.parameters()])
    assert np.abs(values).max() <= 0.25 and np.abs(values).max() > 0.24  # 1/√16
    assert abs(values.mean()) < 0.02


def test_dropout_acts_between_layers_in_training_only():
    m = cr.nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = cr.randn(4, 2, 3)
    m.eval()
    a, b = m(x)[0].numpy(), m(x)[0].numpy()
    np.testing.assert_array_equal(a, b)
    m.train()
    assert not np.array_equal(m(x)[0].numpy(), a)


def test_lstm_trains_on_a_sequence_task():
    """A one-layer LSTM learns to output the running sum's sign (loss falls by 10x)."""
    cr.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6, 1)).astype(np.float32)
    y = (np.cumsum(x, 1)[:, -1, 0] > 0).astype(np.int64)
    lstm, head = cr.nn.LSTM(1, 16, batch_first=True), cr.nn.Linear(16, 2)
    opt = cr.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.03)
    losses = []
    for _ in range(150):
        out, (h, c) = lstm(cr.tensor(x))
        loss = cr.nn.functional.cross_entropy(head(out[:, -1]), cr.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 10


@pytest.mark.parametrize("build,call,match", [
    (lambda: cr.nn.LSTM(3, 4), lambda m: m(cr.randn(5, 2, 7)), "input has 7 features.*input_size=3"),
    (lambda: cr.nn.LSTM(3, 4), lambda m: m(cr.randn(5, 3)[None, None]), r"expected input of shape \(L, N, H_in\)"),
    (lambda: cr.nn.LSTM(3, 4), lambda m: m(cr.randn(5, 2, 3), cr.zeros(1, 2, 4)), r"tuple \(h_0, c_0\)"),
    (lambda: cr.nn.LSTM(3, 4), lambda m: m(cr.randn(5, 2, 3), (cr.zeros(1, 3, 4), cr.zeros(1, 2, 4))),
     r"h_0 must have shape \(1, 2, 4\), got \(1, 3, 4\)"),
    (lambda: cr.nn.GRU(3, 4, num_layers=2), lambda m: m(cr.randn(5, 2, 3), cr.zeros(1, 2, 4)),
     r"h_0 must have shape \(2, 2, 4\)"),
    (lambda: cr.nn.GRU(3, 4), lambda m: m(cr.randn(5, 2, 3), (cr.zeros(1, 2, 4), cr.zeros(1, 2, 4))), "one Tensor"),
    (lambda: cr.nn.GRUCell(3, 4), lambda m: m(cr.randn(2, 5)), r"GRUCell: expected input of shape \(N, 3\)"),
    (lambda: cr.nn.LSTMCell(3, 4), lambda m: m(cr.randn(2, 3), cr.zeros(2, 4)), r"tuple \(h, c\)"),
    (lambda: cr.nn.RNNCell(3, 4), lambda m: m(cr.randn(2, 3), cr.zeros(3, 4)), r"hx must have shape \(2, 4\)"),
])
def test_bad_inputs_name_the_layer_and_shapes(build, call, match):
    with pytest.raises(cr.ChainruleError, match=match):
        call(build())


@pytest.mark.parametrize("build,match", [
    (lambda: cr.nn.RNN(3, 4, nonlinearity="gelu"), "unknown nonlinearity 'gelu'"),
    (lambda: cr.nn.GRU(3, 4, proj_size=2), "only supported for LSTM"),
    (lambda: cr.nn.LSTM(3, 4, proj_size=4), "smaller than hidden_size"),
    (lambda: cr.nn.LSTM(3, 0), "hidden_size must be an integer >= 1"),
    (lambda: cr.nn.LSTM(3, 4, dropout=1.5), "dropout must be between 0 and 1"),
])
def test_bad_constructor_arguments_are_refused(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_rnn_takes_nonlinearity_positionally_as_pytorch():
    assert cr.nn.RNN(3, 4, 2, "relu").nonlinearity == torch.nn.RNN(3, 4, 2, "relu").nonlinearity == "relu"
    assert cr.nn.RNN(3, 4, 2, "relu").num_layers == 2
