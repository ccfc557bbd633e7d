"""``cr.explain.graph`` and ``chainrule explain --graph``: any computation graph, node by node.

The built-in conv net is rebuilt in torch from its weights, so every gradient is checked
against PyTorch as well as against chainrule's own backward pass and central differences.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.cli import main
from chainrule.explain.graph import example, graph


@pytest.fixture(scope="module")
def cnn():
    model, f = example()
    return model, f, graph(f(), names=model, follow="conv.weight[0,0,1,1]", recompute=f)


def torch_cnn(model):
    """The same net, the same digit, in torch: gradients of every parameter and of the logits."""
    images, labels = cr.data.load_digits()
    x = torch.tensor(images.numpy()[0].reshape(1, 1, 8, 8), dtype=torch.float64)
    p = {k: torch.tensor(v.numpy(), requires_grad=True) for k, v in model.named_parameters()}
    z = torch.nn.functional.conv2d(x, p["conv.weight"], p["conv.bias"])
    logits = torch.nn.functional.linear(torch.relu(z).reshape(1, -1), p["fc.weight"], p["fc.bias"])
    logits.retain_grad()
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels.numpy()[:1]))
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in p.items()}, logits.grad.numpy(), x.numpy()


def test_every_node_of_the_cnn_with_its_rule_and_upstream_gradient(cnn):
    model, _, g = cnn
    loss, grads, dlogits, _ = torch_cnn(model)
    assert [n.op for n in g.nodes] == ["conv2d", "relu", "reshape", "linear", "cross_entropy"]
    assert [n.shape for n in g.nodes] == [(1, 2, 6, 6), (1, 2, 6, 6), (1, 72), (1, 10), ()]
    assert g.nodes[-1].inputs == ["#3", "const"] and g.nodes[0].inputs == ["const", "conv.weight", "conv.bias"]
    assert all(n.rule and n.value is not None for n in g.nodes)
    assert "∂l/∂W[o,c,p,q] = Σ_{n,i,j} g[n,o,i,j]·x[n,c,i+p,j+q]" in g.nodes[0].rule
    assert g.output == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(g.nodes[3].grad, dlogits, rtol=1e-10, atol=1e-14)  # upstream ∂l/∂logits
    assert g.nodes[-1].grad == 1.0
    for lf in g.leaves:
        np.testing.assert_allclose(lf.grad, grads[lf.name], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(lf.grad_autograd, grads[lf.name], rtol=1e-10, atol=1e-14)
    assert g.agree


def test_following_one_conv_weight_agrees_three_ways_and_with_torch(cnn):
    model, _, g = cnn
    _, grads, _, x = torch_cnn(model)
    f = g.follow
    want = grads["conv.weight"][0, 0, 1, 1]
    assert f.walk == pytest.approx(want, rel=1e-10) and f.autograd == pytest.approx(want, rel=1e-10)
    assert f.numeric == pytest.approx(want, rel=1e-6, abs=1e-9) and f.total == pytest.approx(want, rel=1e-10)
    assert f.path == [0, 1, 2, 3, 4]
    # conv by hand: y[0,0,i,j] reads x[0,0,i+1,j+1] through w[0,0,1,1], so the local derivative is that pixel
    for t in f.terms:
        n, o, i, j = t.index
        assert (n, o) == (0, 0) and t.local == x[0, 0, i + 1, j + 1]
    upstream = g.nodes[0].grad[0, 0]
    assert f.n_terms == int(((x[0, 0, 1:7, 1:7] != 0) & (upstream != 0)).sum())  # every nonzero product
    assert [abs(t.product) for t in f.terms] == sorted((abs(t.product) for t in f.terms), reverse=True)


def test_a_shared_and_broadcast_parameter_sums_over_its_uses():
    w = cr.tensor(np.array([[0.5, -1.0, 2.0]]), requires_grad=True)  # (1, 3), broadcast over 4 rows
    x = cr.tensor(np.arange(12.0).reshape(4, 3) / 7)
    out = ((cr.tanh(x * w) + w) ** 2).sum()
    g = graph(out, names={"w": w}, follow="w[0,2]", recompute=lambda: ((cr.tanh(x * w) + w) ** 2).sum())
    tw = torch.tensor(w.numpy(), requires_grad=True)
    ((torch.tanh(torch.tensor(x.numpy()) * tw) + tw) ** 2).sum().backward()
    np.testing.assert_allclose(g.leaves[0].grad, tw.grad.numpy(), rtol=1e-10)
    assert g.follow.walk == pytest.approx(tw.grad.numpy()[0, 2], rel=1e-10)
    assert g.follow.numeric == pytest.approx(tw.grad.numpy()[0, 2], rel=1e-6)
    assert len({t.node for t in g.follow.terms}) == 2  # w enters the graph twice: x·w and the + w
    assert g.agree


def test_a_deep_graph_needs_no_recursion():
    x = cr.tensor(np.array([0.3]), requires_grad=True)
    h = x
    for _ in range(3000):
        h = h * 1.0001 + 0.0
    g = graph(h.sum(), names={"x": x})
    assert len(g.nodes) == 6001 and g.leaves[0].grad[0] == pytest.approx(1.0001 ** 3000, rel=1e-9)


def test_errors_are_clear():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(cr.ShapeError, match="must be a scalar"):
        graph(w * 2)
    with pytest.raises(ValueError, match="no graph to explain"):
        graph(cr.tensor(3.0))
    out = (w * w).sum()
    out.backward()
    with pytest.raises(cr.AutogradError, match="freed by a backward pass"):
        graph(out)
    with pytest.raises(ValueError, match=r"does not fit w of shape \(2,\) \(1 index needed\)"):
        graph((w * w).sum(), names={"w": w}, follow="w[0,1]")


def explain(capsys, *argv):
    rc = main(["explain", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_graph_text_json_html(capsys, tmp_path):
    j, h = tmp_path / "g.json", tmp_path / "g.html"
    rc, out, err = explain(capsys, "--graph", "--json", str(j), "--html", str(h))
    assert rc == 0 and err == ""
    assert "#0  conv2d  (1, 2, 6, 6)  ← const, conv.weight, conv.bias" in out
    assert "One element along its paths: conv.weight[0,0,1,1]" in out
    assert "chain rule = autograd = central differences" in out
    assert all(len(line) <= 80 for line in out.splitlines())
    d = json.loads(j.read_text())
    assert d["schema"] == "chainrule.graph/1" and d["agree"] is True
    assert set(d) == {"schema", "output", "agree", "tolerance", "nodes", "leaves", "follow"}
    assert [n["op"] for n in d["nodes"]] == ["conv2d", "relu", "reshape", "linear", "cross_entropy"]
    assert set(d["follow"]) == {"name", "leaf", "index", "value", "path", "n_terms", "sum_of_products", "terms",
                                "walk", "autograd", "numeric", "eps"}
    assert d["follow"]["walk"] == pytest.approx(d["follow"]["numeric"], rel=1e-6)
    page = h.read_text()
    assert page.count('class="gnode') == 2 * 5 and page.count('class="gleaf') == 2 * 4  # wide and phone drawings
    assert "<script src" not in page
    assert "https://" not in page and "<title>#0 conv2d (1, 2, 6, 6)" in page
    rc, out, _ = explain(capsys, "--graph", "--lang", "zh", "--quiet", "--json", str(j))
    assert rc == 0 and out == ""


@pytest.mark.parametrize("argv,msg", [
    (["--graph", "--follow", "conv.weight[0,0,1]"], "does not fit conv.weight of shape (2, 1, 3, 3) (4 indexes"),
    (["--graph", "--follow", "cnv.weight[0]"], "no leaf 'cnv.weight' in the graph (its leaves: conv.weight"),
    (["--graph", "--follow", "conv.weight"], "should look like 'conv.weight[0,0,1,1]'"),
    (["--graph", "--weight", "0.weight[0,0]"], "leave out --weight"),
    (["--graph", "--example", "3"], "--example picks a test example of a --checkpoint run"),
    (["--follow", "conv.weight[0,0,1,1]"], "--follow needs --graph"),
])
def test_cli_graph_bad_options_are_one_line(capsys, argv, msg):
    rc, out, err = explain(capsys, *argv)
    assert rc == 2 and out == "" and err.count("\n") == 1 and msg in err, err


def test_cli_graph_of_a_trained_cnn(capsys, tmp_path):
    """`chainrule train --model cnn` makes a network the MLP derivation cannot read; its graph can be."""
    from chainrule.train import train

    run = tmp_path / "cnn"
    train({"model": "cnn", "channels": [4, 6], "epochs": 1, "out": str(run), "seed": 2})
    j = tmp_path / "c.json"
    rc, out, _ = explain(capsys, "--graph", "--checkpoint", str(run), "--follow", "0.weight[1,0,1,2]", "--json", str(j))
    d = json.loads(j.read_text())
    assert rc == 0 and d["agree"] and "conv2d" in [n["op"] for n in d["nodes"]]
    assert "max_pool2d" in [n["op"] for n in d["nodes"]]
    assert d["follow"]["walk"] == pytest.approx(d["follow"]["numeric"], rel=1e-5, abs=1e-9)


def test_cli_graph_of_a_trained_run(capsys, tmp_path):
    from chainrule.train import train

    run = tmp_path / "run"
    train({"epochs": 1, "out": str(run), "layers": [64, 12, 10], "seed": 1})
    j = tmp_path / "g.json"
    rc, out, _ = explain(capsys, "--graph", "--checkpoint", str(run), "--follow", "0.weight[3,20]", "--example", "5",
                         "--json", str(j))
    d = json.loads(j.read_text())
    assert rc == 0 and d["agree"] and d["follow"]["numeric"] == pytest.approx(d["follow"]["autograd"], rel=1e-6)
    assert {lf["name"] for lf in d["leaves"]} == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_every_graph_key_is_documented(cnn):
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "explain-schema.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)`", doc)) | set(re.findall(r'"([a-z_]+)"', doc))
    d = cnn[2].to_dict()
    keys = set(d) | set(d["nodes"][0]) | set(d["leaves"][0]) | set(d["follow"]) | set(d["follow"]["terms"][0])
    keys |= set(d["nodes"][0]["grad"])
    assert not keys - documented, keys - documented
    assert "chainrule.graph/1" in doc


def test_the_mlp_explanation_points_a_conv_net_to_the_graph():
    with pytest.raises(ValueError, match=r"Conv2d\) is not supported.*--graph --follow"):
        cr.explain.backprop(cr.nn.Sequential(cr.nn.Conv2d(1, 1, 3)), [1.0], [1.0])
