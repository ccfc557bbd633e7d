"""cr.distributions, cr.linalg norms and cr.testing.assert_close against PyTorch's (issue 12)."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr

RNG = np.random.default_rng(0)


def _both(arr, grad=True):
    return cr.tensor(arr, requires_grad=grad), torch.tensor(arr, requires_grad=grad)


def _close(ours, theirs, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def test_normal_log_prob_entropy_kl_and_their_gradients_like_torch():
    loc, tloc = _both(RNG.normal(size=3).astype(np.float32))
    scale, tscale = _both(RNG.uniform(0.5, 2, size=3).astype(np.float32))
    value = RNG.normal(size=(4, 3)).astype(np.float32)
    n, tn = cr.distributions.Normal(loc, scale), torch.distributions.Normal(tloc, tscale)
    prior, tprior = cr.distributions.Normal(cr.zeros(3), cr.ones(3)), torch.distributions.Normal(torch.zeros(3),
                                                                                                   torch.ones(3))
    terms = [(n.log_prob(cr.tensor(value)).sum(), tn.log_prob(torch.tensor(value)).sum()),
             (n.entropy().sum(), tn.entropy().sum()),
             (cr.distributions.kl_divergence(n, prior).sum(), torch.distributions.kl_divergence(tn, tprior).sum())]
    for ours, theirs in terms:
        _close(ours, theirs)
        loc.grad = scale.grad = tloc.grad = tscale.grad = None
        ours.backward()
        theirs.backward()
        for g, tg in ((loc.grad, tloc.grad), (scale.grad, tscale.grad)):
            assert (g is None) == (tg is None)  # the entropy does not depend on loc, in either library
            if g is not None:
                _close(g, tg)
    s = n.rsample((1000,))
    assert s.shape == (1000, 3) and s.requires_grad and not n.sample((2,)).requires_grad
    loc.grad = None
    s.mean().backward()  # d mean(loc + scale * eps) / d loc = 1/3 for each of the 3 locs
    np.testing.assert_allclose(loc.grad.numpy(), np.full(3, 1 / 3), rtol=1e-5)
    with pytest.raises(ValueError, match="scale must be positive"):
        cr.distributions.Normal(0.0, -1.0)


@pytest.mark.parametrize("form", ["logits", "probs"])
def test_categorical_like_torch(form):
    raw = RNG.normal(size=(2, 4)).astype(np.float32)
    raw = raw if form == "logits" else np.exp(raw)
    x, tx = _both(raw)
    c, tc = cr.distributions.Categorical(**{form: x}), torch.distributions.Categorical(**{form: tx})
    actions = np.array([3, 0])
    _close(c.probs, tc.probs)
    _close(c.log_prob(cr.tensor(actions)), tc.log_prob(torch.tensor(actions)))
    _close(c.entropy(), tc.entropy())
    (c.log_prob(cr.tensor(actions)).sum() + c.entropy().sum()).backward()
    (tc.log_prob(torch.tensor(actions)).sum() + tc.entropy().sum()).backward()
    _close(x.grad, tx.grad)
    assert c.sample().shape == tuple(tc.sample().shape) and c.sample((5,)).shape == tuple(tc.sample((5,)).shape)
    assert c.sample().dtype == cr.int64


def test_categorical_samples_follow_the_probabilities():
    cr.manual_seed(0)
    draws = cr.distributions.Categorical(probs=cr.tensor([0.1, 0.6, 0.3])).sample((20000,)).numpy()
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20000, [0.1, 0.6, 0.3], atol=0.015)
    with pytest.raises(ValueError, match="exactly one of probs= or logits="):
        cr.distributions.Categorical()


def test_bernoulli_like_torch():
    p, tp = _both(np.array([0.2, 0.7, 0.95], np.float32))
    b, tb = cr.distributions.Bernoulli(probs=p), torch.distributions.Bernoulli(probs=tp)
    v = np.array([1.0, 0.0, 1.0], np.float32)
    _close(b.log_prob(cr.tensor(v)), tb.log_prob(torch.tensor(v)))
    _close(b.entropy(), tb.entropy())
    b.log_prob(cr.tensor(v)).sum().backward()
    tb.log_prob(torch.tensor(v)).sum().backward()
    _close(p.grad, tp.grad, rtol=1e-4)
    cr.manual_seed(1)
    np.testing.assert_allclose(cr.distributions.Bernoulli(probs=p).sample((20000,)).numpy().mean(0),
                               [0.2, 0.7, 0.95], atol=0.015)


NORMS = [({}, (3, 4)), ({"ord": 1, "dim": 1}, (3, 4)), ({"ord": "fro"}, (3, 4)), ({"ord": 1}, (3, 4)),
         ({"ord": math.inf}, (3, 4)), ({"ord": -1}, (3, 4)), ({"dim": 0}, (3, 4)), ({"ord": 3}, (5,)),
         ({"ord": math.inf}, (5,)), ({"dim": (1, 2)}, (2, 3, 4)), ({"ord": 1, "dim": (0, 2), "keepdim": True},
                                                                    (2, 3, 4))]


@pytest.mark.parametrize("kwargs,shape", NORMS, ids=[f"{k}-{s}" for k, s in NORMS])
def test_linalg_norm_values_and_gradients_like_torch(kwargs, shape):
    x, tx = _both(RNG.normal(size=shape))
    ours, theirs = cr.linalg.norm(x, **kwargs), torch.linalg.norm(tx, **kwargs)
    assert ours.shape == tuple(theirs.shape)
    _close(ours, theirs, rtol=1e-10)
    ours.sum().backward()
    theirs.sum().backward()
    _close(x.grad, tx.grad, rtol=1e-10)


def test_linalg_vector_and_matrix_norm_and_refusals():
    x, tx = _both(RNG.normal(size=(3, 4)).astype(np.float32), grad=False)
    _close(cr.linalg.vector_norm(x, ord=1, dim=1), torch.linalg.vector_norm(tx, ord=1, dim=1))
    _close(cr.linalg.matrix_norm(x), torch.linalg.matrix_norm(tx))
    with pytest.raises(ValueError, match="ord='nuc' needs singular values"):
        cr.linalg.matrix_norm(x, ord="nuc")
    with pytest.raises(cr.ShapeError, match="must be 1-D or 2-D"):
        cr.linalg.norm(cr.ones(2, 2, 2), ord=1)


def test_assert_close_uses_torchs_default_tolerances():
    for ours_ok, a, b in ((True, [1.0, 2.0], [1.0, 2.0 + 1e-6]), (False, [1.0, 2.0], [1.0, 2.1]),
                          (False, [1.0], [1.0 + 3e-5])):
        for lib, fn in ((cr, cr.testing.assert_close), (torch, torch.testing.assert_close)):
            if ours_ok:
                fn(lib.tensor(a), lib.tensor(b))
            else:
                with pytest.raises(AssertionError):
                    fn(lib.tensor(a), lib.tensor(b))
    with pytest.raises(AssertionError, match="dtypes"):
        cr.testing.assert_close(cr.ones(2), cr.ones(2, dtype=cr.float64))
    cr.testing.assert_close(cr.ones(2), cr.tensor([1.0, 1.1]), rtol=0, atol=0.2)
