"""Attention and transformer layers agree with PyTorch (values and gradients) and with finite differences."""
import numpy as np
import pytest
import torch
from nn_compare import copy_weights

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F


def _pair(seed, *shapes, dtype=np.float64):
    r = np.random.default_rng(seed)
    arrays = [r.standard_normal(s).astype(dtype) for s in shapes]
    return ([cr.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _check_grads(cout, tout, cins, tins, seed=1, rtol=1e-9, atol=1e-9):
    np.testing.assert_allclose(cout.numpy(), tout.detach().numpy(), rtol=rtol, atol=atol, err_msg="forward")
    up = np.random.default_rng(seed).standard_normal(cout.shape).astype(cout.dtype)
    cout.backward(cr.tensor(up))
    tout.backward(torch.tensor(up))
    for i, (c, t) in enumerate(zip(cins, tins)):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"grad {i}")


@pytest.mark.parametrize("mask", ["none", "causal", "bool", "float"])
def test_sdpa_matches_torch(mask):
    (q, k, v), (tq, tk, tv) = _pair(0, (2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7))
    kw, tkw = {}, {}
    if mask == "causal":
        kw = tkw = {"is_causal": True}
    elif mask != "none":
        m = np.random.default_rng(2).random((5, 6)) > 0.3
        m[:, 0] = True  # every row keeps one key (an all-masked row is NaN in both libraries)
        if mask == "float":
            m = np.where(m, 0.0, -1e9) + np.random.default_rng(3).standard_normal((5, 6))
        kw, tkw = {"attn_mask": cr.tensor(m)}, {"attn_mask": torch.tensor(m)}
    out = F.scaled_dot_product_attention(q, k, v, **kw)
    tout = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, **tkw)
    _check_grads(out, tout, (q, k, v), (tq, tk, tv))


def test_sdpa_causal_masked_scores_get_exact_zero_gradient_and_pass_gradcheck():
    (q, k, v), _ = _pair(4, (1, 3, 2), (1, 3, 2), (1, 3, 2))
    assert cr.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))
    # the first query sees only the first key: later keys cannot change its output
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    out[0, 0].sum().backward()
    assert np.all(k.grad.numpy()[0, 1:] == 0) and np.all(v.grad.numpy()[0, 1:] == 0)


def test_sdpa_refuses_mask_and_is_causal_together_and_bad_shapes():
    (q, k, v), _ = _pair(0, (2, 3), (2, 3), (2, 3))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=cr.ones(2, 2, dtype=cr.bool), is_causal=True)
    with pytest.raises(cr.ShapeError, match="do not fit"):
        F.scaled_dot_product_attention(q, cr.zeros(2, 4), v)


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_matches_torch(batch_first):
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    cm = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=cr.float64)
    copy_weights(cm, tm)
    shape = (3, 5, 8) if batch_first else (5, 3, 8)
    (x, kv), (tx, tkv) = _pair(1, shape, (4, 3, 8) if not batch_first else (3, 4, 8))
    kpm = np.zeros((3, 4), bool)
    kpm[1, 2:] = True
    out, w = cm(x, kv, kv, key_padding_mask=cr.tensor(kpm))
    tout, tw = tm(tx, tkv, tkv, key_padding_mask=torch.tensor(kpm))
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-9, atol=1e-9)
    (out.sum() * 0 + (out * out).sum() + w.sum()).backward()
    ((tout * tout).sum() + tw.sum()).backward()
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-9, atol=1e-9)
    for a, b in [(x, tx), (kv, tkv)] + [(p, dict(tm.named_parameters())[n]) for n, p in cm.named_parameters()]:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-9)


def test_multihead_attention_masks_per_head_and_unbatched():
    torch.manual_seed(1)
    tm = torch.nn.MultiheadAttention(4, 2).double()
    cm = nn.MultiheadAttention(4, 2, dtype=cr.float64)
    copy_weights(cm, tm)
    (x,), (tx,) = _pair(2, (3, 4))
    causal = np.triu(np.ones((3, 3), bool), 1)
    out, w = cm(x, x, x, attn_mask=cr.tensor(causal), average_attn_weights=False, is_causal=True)
    tout, tw = tm(tx, tx, tx, attn_mask=torch.tensor(causal), average_attn_weights=False, is_causal=True)
    assert w.shape == tuple(tw.shape) == (2, 3, 3)
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-9, atol=1e-12)
    _check_grads(out, tout, (x,), (tx,))
    with pytest.raises(RuntimeError, match="is_causal"):
        cm(x, x, x, is_causal=True)


@pytest.mark.parametrize("norm_first, activation", [(False, "relu"), (True, "gelu")])
def test_transformer_encoder_layer_matches_torch(norm_first, activation):
    torch.manual_seed(2)
    kw = dict(dim_feedforward=16, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first)
    tm = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, **kw), 2, enable_nested_tensor=False)
    cm = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, **kw), 2)
    tm = tm.double()
    cm.to(cr.float64)
    copy_weights(cm, tm)
    (x,), (tx,) = _pair(3, (2, 5, 8))
    mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=cr.float64)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    np.testing.assert_array_equal(mask.numpy(), tmask.numpy())
    out, tout = cm(x, mask=mask, is_causal=True), tm(tx, mask=tmask, is_causal=True)
    _check_grads(out, tout, [x] + list(cm.parameters()), [tx] + list(tm.parameters()), rtol=1e-7, atol=1e-9)


def test_transformer_layers_print_like_pytorch():
    kw = dict(dim_feedforward=16, batch_first=True)
    ours = repr(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, **kw), 2))
    theirs = repr(torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, **kw), 2,
                                              enable_nested_tensor=False))
    assert ours == theirs


def test_parameter_list_and_dict_register_and_print_like_pytorch():
    pl = nn.ParameterList([nn.Parameter(cr.zeros(3, 4)), cr.zeros(2)])
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"] and isinstance(pl[1], nn.Parameter)
    tpl = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(3, 4)), torch.zeros(2)])
    assert repr(pl) == repr(tpl).replace("torch.", "chainrule.")
    pd = nn.ParameterDict({"a": nn.Parameter(cr.zeros(2))})
    pd["b"] = cr.ones(1)
    tpd = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.zeros(2))})
    tpd["b"] = torch.ones(1)
    assert list(pd.keys()) == ["a", "b"] and len(list(pd.parameters())) == 2
    assert repr(pd) == repr(tpd).replace("torch.", "chainrule.")
