"""Every number of the explanation equals PyTorch's for the same network (float64).

z, a, σ'(z), ∂l/∂z, ∂l/∂w, ∂l/∂b per example, the sums over examples, the
gradient-descent step and the losses before and after — for the three
activations, both losses, one and several examples.  The explanation's own
autograd and central-difference columns are checked too, so the test covers the
three independent computations.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.explain import Layer

TOL = dict(rtol=1e-9, atol=1e-12)


def make_layers(sizes, activation, loss, seed):
    """Unrounded random weights (so no ReLU input lands exactly on its kink)."""
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        act = ("identity" if loss == "cross_entropy" else activation) if last else activation
        layers.append(Layer(rng.normal(0, 0.8, (b, a)), rng.normal(0, 0.5, b), act, str(2 * i)))
    return layers


def torch_reference(layers, X, T, loss, classes, lr):
    """Per-example z, a, σ'(z), ∂l/∂z, grads; total grads; SGD step; losses — all from torch.autograd."""
    acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda v: v}
    params = [(torch.tensor(ly.weight, requires_grad=True), torch.tensor(ly.bias, requires_grad=True))
              for ly in layers]

    def example_loss(n):
        h = torch.tensor(X[n:n + 1])
        zs, as_ = [], []
        for ly, (w, b) in zip(layers, params):
            z = torch.nn.functional.linear(h, w, b)
            if z.requires_grad:
                z.retain_grad()
            h = acts[ly.activation](z)
            zs.append(z)
            as_.append(h)
        if loss == "mse":
            l = torch.nn.functional.mse_loss(h, torch.tensor(T[n:n + 1]))
        elif classes is not None:
            l = torch.nn.functional.cross_entropy(h, torch.tensor(classes[n:n + 1]))
        else:
            l = torch.nn.functional.cross_entropy(h, torch.tensor(T[n:n + 1]))
        return l, zs, as_

    per = []
    for n in range(len(X)):
        l, zs, as_ = example_loss(n)
        sig = [torch.autograd.grad(a.sum(), z, retain_graph=True)[0] for z, a in zip(zs, as_)]
        flat = [p for pair in params for p in pair]
        grads = torch.autograd.grad(l, flat + zs)
        per.append({
            "loss": l.item(), "z": [z.detach()[0].numpy() for z in zs], "a": [a.detach()[0].numpy() for a in as_],
            "sigma_prime": [s[0].numpy() for s in sig],
            "dl_dw": [g.numpy() for g in grads[0:2 * len(layers):2]],
            "dl_db": [g.numpy() for g in grads[1:2 * len(layers):2]],
            "dl_dz": [g[0].numpy() for g in grads[2 * len(layers):]],
        })
    opt = torch.optim.SGD([p for pair in params for p in pair], lr=lr)
    total = sum(example_loss(n)[0] for n in range(len(X)))
    opt.zero_grad()
    total.backward()
    tot_w = [w.grad.numpy().copy() for w, _ in params]
    tot_b = [b.grad.numpy().copy() for _, b in params]
    opt.step()
    with torch.no_grad():
        after = sum(example_loss(n)[0] for n in range(len(X))).item()
    new = [(w.detach().numpy(), b.detach().numpy()) for w, b in params]
    return per, total.item(), tot_w, tot_b, new, after


CASES = [(act, loss, n) for act in ("sigmoid", "tanh", "relu") for loss in ("mse", "cross_entropy") for n in (1, 3)]


@pytest.mark.parametrize("activation,loss,n_examples", CASES)
def test_every_number_matches_torch(activation, loss, n_examples):
    seed = CASES.index((activation, loss, n_examples))
    sizes = [3, 4, 3, 2] if loss == "mse" else [3, 4, 3]
    layers = make_layers(sizes, activation, loss, seed)
    rng = np.random.default_rng(seed + 7)
    X = rng.normal(0, 1.5, (n_examples, sizes[0]))
    classes = rng.integers(0, sizes[-1], n_examples) if loss == "cross_entropy" else None
    T = np.eye(sizes[-1])[classes] if classes is not None else rng.uniform(0, 1, (n_examples, sizes[-1]))
    lr = 0.3
    e = cr.explain.backprop(layers, X, classes if classes is not None else T, loss=loss, lr=lr)
    d = e.to_dict()
    per, total, tot_w, tot_b, new, after = torch_reference(layers, X, T, loss, classes, lr)

    assert len(d["examples"]) == n_examples
    for n, (ex, ref) in enumerate(zip(d["examples"], per)):
        np.testing.assert_allclose(ex["loss"], ref["loss"], **TOL)
        for ell, lay in enumerate(ex["layers"]):
            for key in ("z", "a", "sigma_prime", "dl_dz"):
                np.testing.assert_allclose(lay[key], ref[key][ell], err_msg=f"{key} layer {ell}", **TOL)
            np.testing.assert_allclose(lay["dl_dz_autograd"], ref["dl_dz"][ell], **TOL)
            for key in ("dl_dw", "dl_db"):
                np.testing.assert_allclose(lay[key], ref[key][ell], err_msg=f"{key} layer {ell}", **TOL)
                np.testing.assert_allclose(lay[key + "_autograd"], ref[key][ell], **TOL)
                np.testing.assert_allclose(lay[key + "_numeric"], ref[key][ell], rtol=1e-5, atol=1e-7)
            # ∂z/∂w is the value that fed the weight: x for layer 1, the previous activation after
            fed = X[n] if ell == 0 else ref["a"][ell - 1]
            np.testing.assert_allclose(lay["inputs"], fed, **TOL)
    np.testing.assert_allclose(d["total"]["loss"], total, **TOL)
    np.testing.assert_allclose(d["total"]["cost"], total / n_examples, **TOL)
    for ell, lay in enumerate(d["total"]["layers"]):
        np.testing.assert_allclose(lay["dl_dw"], tot_w[ell], **TOL)
        np.testing.assert_allclose(lay["dl_db"], tot_b[ell], **TOL)
        np.testing.assert_allclose(lay["dl_dw_autograd"], tot_w[ell], **TOL)
        np.testing.assert_allclose(lay["dl_dw_numeric"], tot_w[ell], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(lay["dl_dw_mean"], tot_w[ell] / n_examples, **TOL)
        np.testing.assert_allclose(lay["dl_db_mean"], tot_b[ell] / n_examples, **TOL)
    for ell, lay in enumerate(d["step"]["layers"]):
        np.testing.assert_allclose(lay["weight"], new[ell][0], **TOL)
        np.testing.assert_allclose(lay["bias"], new[ell][1], **TOL)
    np.testing.assert_allclose(d["step"]["loss_before"], total, **TOL)
    np.testing.assert_allclose(d["step"]["loss_after"], after, **TOL)
    assert d["agree"] is True and e.agree


def test_sequential_model_from_cr_nn_matches_layer_list():
    """A cr.nn.Sequential of Linear and activations is read with PyTorch's layout and names."""
    cr.manual_seed(3)
    net = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.Tanh(), cr.nn.Linear(3, 2), cr.nn.Sigmoid())
    e = cr.explain.backprop(net, [0.5, -1.0], [1.0, 0.0])
    d = e.to_dict()
    assert [ly["name"] for ly in d["network"]["layers"]] == ["0", "2"]
    assert [ly["activation"] for ly in d["network"]["layers"]] == ["tanh", "sigmoid"]
    np.testing.assert_array_equal(d["network"]["layers"][1]["weight"], net[2].weight.numpy().astype(np.float64))
    # the same network as torch modules gives the same explanation
    tnet = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2), torch.nn.Sigmoid())
    with torch.no_grad():
        for k in (0, 2):
            tnet[k].weight.copy_(torch.tensor(net[k].weight.numpy()))
            tnet[k].bias.copy_(torch.tensor(net[k].bias.numpy()))
    d2 = cr.explain.backprop(tnet, [0.5, -1.0], [1.0, 0.0]).to_dict()
    assert d2["examples"][0]["layers"][0]["dl_dw"] == d["examples"][0]["layers"][0]["dl_dw"]


@pytest.mark.parametrize("target", [[0.2, 0.5, 0.3], [0.5, 1.0, 0.3]], ids=["probabilities", "unnormalised"])
def test_probability_targets_for_cross_entropy_match_torch(target):
    """Soft targets; ones that do not sum to 1 once exposed a wrong cross-entropy VJP (p − t for p·Σt − t)."""
    layers = make_layers([2, 3, 3], "sigmoid", "cross_entropy", 11)
    T = np.array([target])
    e = cr.explain.backprop(layers, [[0.3, -0.7]], T, loss="cross_entropy")
    d = e.to_dict()
    per, *_ = torch_reference(layers, np.array([[0.3, -0.7]]), T, "cross_entropy", None, 0.5)
    for ell in range(2):
        lay = d["examples"][0]["layers"][ell]
        for key in ("dl_dw", "dl_dw_autograd"):
            np.testing.assert_allclose(lay[key], per[0]["dl_dw"][ell], **TOL)
        np.testing.assert_allclose(lay["dl_dz_autograd"], per[0]["dl_dz"][ell], **TOL)
    assert d["examples"][0]["target_class"] is None and e.agree


def test_focus_on_one_weight_checks_it_three_ways():
    layers = make_layers([4, 6, 5, 3], "relu", "cross_entropy", 5)
    e = cr.explain.backprop(layers, np.ones((2, 4)), np.array([0, 2]), loss="cross_entropy", weight="2.weight[3,5]")
    d = e.to_dict()
    assert d["focus"] == {"layer": 1, "param": "weight", "index": [3, 5], "name": "2.weight[3,5]"}
    lay = d["examples"][0]["layers"][1]
    assert lay["dl_dw_numeric"][3][5] == pytest.approx(lay["dl_dw"][3][5], rel=1e-5, abs=1e-8)
    assert lay["dl_dw_numeric"][0][0] is None  # only the explained weight is estimated numerically
    assert "w²₄₆" in e.text()


@pytest.mark.parametrize("name,msg", [
    ("2.weight[9,9]", "outside 2.weight of shape (5, 6)"),
    ("7.weight[0,0]", "no Linear layer '7'"),
    ("weight", "should look like"),
])
def test_bad_weight_name_says_what_is_wrong(name, msg):
    layers = make_layers([4, 6, 5, 3], "relu", "mse", 5)
    with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        cr.explain.backprop(layers, np.ones(4), np.zeros(3), weight=name)


def test_shape_errors_name_the_shapes():
    layers = make_layers([4, 6, 3], "tanh", "mse", 5)
    with pytest.raises(cr.ShapeError, match=r"input of shape \(1, 3\)"):
        cr.explain.backprop(layers, np.ones(3), np.zeros(3))
    with pytest.raises(cr.ShapeError, match=r"targets of shape \(1, 2\)"):
        cr.explain.backprop(layers, np.ones(4), np.zeros(2))
