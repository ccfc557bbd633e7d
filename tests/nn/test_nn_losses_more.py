"""SmoothL1, Huber, KL divergence, margin, cosine and triplet losses, cosine similarity, pairwise distance
and normalize against PyTorch: values and gradients for every input, each reduction; reprs; bad arguments."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr

R = np.random.default_rng(0)
A = R.standard_normal((4, 5)).astype(np.float32)
B = (A + R.standard_normal((4, 5)) * np.array([0.1, 0.5, 1.0, 3.0, 0.0])).astype(np.float32)  # |d| on both sides of 1
SIGN = np.array([1.0, -1.0, 1.0, -1.0], dtype=np.float32)
LOGP = np.log(np.random.default_rng(1).dirichlet(np.ones(5), 4)).astype(np.float32)
P = np.random.default_rng(2).dirichlet(np.ones(5), 4).astype(np.float32)
P[0, 1] = 0.0  # a zero target probability contributes 0, not NaN
P[0] /= P[0].sum()


def _run(fn_c, fn_t, arrays, grads):
    cs = [cr.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    ts = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's kl_div 'mean' advice
        cy, ty = fn_c(*cs), fn_t(*ts)
    assert cy.shape == tuple(ty.shape)
    np.testing.assert_allclose(cy.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg="value")
    up = np.random.default_rng(3).standard_normal(cy.shape).astype(np.float32)
    (cy * cr.tensor(up)).sum().backward()
    (ty * torch.tensor(up)).sum().backward()
    for i, (c, t) in enumerate(zip(cs, ts)):
        if grads[i]:
            tg = t.grad.numpy()
            known = ~np.isnan(tg)  # PyTorch's kl_div target gradient is NaN at target 0 (chainrule: finite)
            assert known.mean() > 0.9
            np.testing.assert_allclose(c.grad.numpy()[known], tg[known], rtol=1e-4, atol=1e-6, err_msg=f"grad {i}")
            assert np.isfinite(c.grad.numpy()).all()


LOSSES = [
    ("SmoothL1Loss", {}, (A, B)), ("SmoothL1Loss", {"beta": 0.5}, (A, B)), ("SmoothL1Loss", {"beta": 0.0}, (A, B)),
    ("HuberLoss", {}, (A, B)), ("HuberLoss", {"delta": 2.0}, (A, B)),
    ("KLDivLoss", {}, (LOGP, P)), ("KLDivLoss", {"log_target": True}, (LOGP, np.log(P + 1e-3))),
    ("SoftMarginLoss", {}, (A, np.sign(B))),
    ("MarginRankingLoss", {"margin": 0.3}, (A[:, 0], B[:, 0], SIGN)),
    ("CosineEmbeddingLoss", {"margin": 0.2}, (A, B, SIGN)),
    ("TripletMarginLoss", {}, (A, B, A[::-1].copy())), ("TripletMarginLoss", {"swap": True, "p": 1}, (A, B, B * 0.5)),
]


@pytest.mark.parametrize("name,kw,arrays", LOSSES, ids=[f"{n}-{k}" for n, k, _ in LOSSES])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_layers_match_pytorch(name, kw, arrays, reduction):
    cm, tm = getattr(cr.nn, name)(**kw, reduction=reduction), getattr(torch.nn, name)(**kw, reduction=reduction)
    assert repr(cm) == repr(tm)
    grads = [True] * len(arrays)
    if name in ("CosineEmbeddingLoss", "MarginRankingLoss"):
        grads[-1] = False  # the ±1 labels
    if name == "SoftMarginLoss":
        grads[-1] = False
    _run(cm, tm, arrays, grads)


def test_kl_div_batchmean_is_the_kl_divergence():
    _run(lambda a, b: cr.nn.functional.kl_div(a, b, reduction="batchmean"),
         lambda a, b: torch.nn.functional.kl_div(a, b, reduction="batchmean"), (LOGP, P), (True, True))
    q = np.exp(LOGP)
    expect = (P * (np.log(np.where(P > 0, P, 1)) - LOGP)).sum() / 4
    got = cr.nn.KLDivLoss(reduction="batchmean")(cr.tensor(LOGP), cr.tensor(P)).item()
    assert abs(got - expect) < 1e-6 and q.shape == P.shape


@pytest.mark.parametrize("dim", [1, 0, -1])
def test_cosine_similarity_matches_pytorch(dim):
    _run(lambda a, b: cr.nn.CosineSimilarity(dim)(a, b), lambda a, b: torch.nn.CosineSimilarity(dim)(a, b),
         (A, B), (True, True))


def test_cosine_similarity_broadcasts_and_is_zero_for_a_zero_vector():
    _run(lambda a, b: cr.nn.functional.cosine_similarity(a, b, dim=-1),
         lambda a, b: torch.nn.functional.cosine_similarity(a, b, dim=-1), (A[:, None, :], B[None]), (True, True))
    z = cr.nn.functional.cosine_similarity(cr.zeros(2, 3), cr.ones(2, 3))
    np.testing.assert_array_equal(z.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("kw", [{}, {"p": 1.0}, {"keepdim": True}, {"p": 3.0, "eps": 0.0}])
def test_pairwise_distance_matches_pytorch(kw):
    _run(lambda a, b: cr.nn.PairwiseDistance(**kw)(a, b), lambda a, b: torch.nn.PairwiseDistance(**kw)(a, b),
         (A, B), (True, True))


@pytest.mark.parametrize("kw", [{}, {"dim": 0}, {"p": 1.0, "dim": -1}])
def test_normalize_matches_pytorch_and_keeps_zero_rows_zero(kw):
    a = A.copy()
    a[1] = 0.0
    _run(lambda x: cr.nn.functional.normalize(x, **kw), lambda x: torch.nn.functional.normalize(x, **kw),
         (a,), (True,))
    n = np.linalg.norm(cr.nn.functional.normalize(cr.tensor(A)).numpy(), axis=1)
    np.testing.assert_allclose(n, 1.0, rtol=1e-6)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: cr.nn.SmoothL1Loss()(cr.randn(3), cr.randn(4)), cr.ChainruleError, r"\(3,\).*\(4,\) differ"),
    (lambda: cr.nn.KLDivLoss(reduction="avg"), ValueError, "'batchmean'"),
    (lambda: cr.nn.SmoothL1Loss(size_average=True), ValueError, "deprecated"),
    (lambda: cr.nn.functional.huber_loss(cr.randn(3), cr.randn(3), delta=0), ValueError, "delta must be > 0"),
    (lambda: cr.nn.CosineEmbeddingLoss()(cr.randn(4, 3), cr.randn(4, 3), cr.ones(3)), cr.ChainruleError,
     r"target must have shape \(4,\)"),
    (lambda: cr.nn.TripletMarginLoss()(cr.randn(4, 3), cr.randn(4, 3), cr.randn(3)), cr.ChainruleError,
     "must all be"),
    (lambda: cr.nn.functional.cosine_similarity(cr.randn(4, 3), cr.randn(2, 3)), cr.ChainruleError,
     "cannot be broadcast"),
])
def test_bad_arguments_raise_chainrule_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_loss_reprs_match_pytorch_whatever_the_reduction():
    assert repr(cr.nn.MSELoss(reduction="sum")) == repr(torch.nn.MSELoss(reduction="sum")) == "MSELoss()"
    assert repr(cr.nn.HuberLoss(delta=3.0)) == repr(torch.nn.HuberLoss(delta=3.0))
