"""``chainrule explain`` as a user meets it: defaults, --lang zh, --json, --html, --weights, --checkpoint, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from chainrule.cli import main
from chainrule.explain.notation import width

SECTIONS_EN = ("The network and the forward pass", "The forward-pass part: ∂z/∂w",
               "The backward pass", "The chain rule: ∂l/∂w = ∂z/∂w · ∂l/∂z", "One step of gradient descent")
SECTIONS_ZH = ("网络与前向传播", "前向部分", "反向传播", "链式法则", "梯度下降一步")


def explain(capsys, *argv) -> tuple[int, str, str]:
    rc = main(["explain", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


# The course's slides, written out here (not read from chainrule): x = (1, −1), sigmoid everywhere.
LECTURE = [([[1, -2], [-1, 1]], [1, 0]), ([[2, -1], [-2, -1]], [0, 0]), ([[3, -1], [-1, 4]], [-2, 2])]
LECTURE_A = [(0.98, 0.12), (0.86, 0.11), (0.62, 0.83)]  # the slides' activations, 2 decimals


def lecture_torch():
    return [(torch.tensor(w, dtype=torch.float64, requires_grad=True),
             torch.tensor(b, dtype=torch.float64, requires_grad=True)) for w, b in LECTURE]


def test_default_is_the_lecture_example_and_fits_80_columns(capsys, tmp_path):
    j = tmp_path / "e.json"
    rc, out, err = explain(capsys, "--json", str(j))
    assert rc == 0 and err == ""
    assert "\x1b[" not in out  # not a TTY: no colour
    for title in SECTIONS_EN:
        assert title in out
    assert "2 → 2 → 2 → 2" in out and "sigmoid, sigmoid, sigmoid" in out
    assert "Case 1, output layer 3" in out and "Case 2, hidden layer 2" in out and "Case 2, hidden layer 1" in out
    too_wide = [line for line in out.splitlines() if width(line) > 80]
    assert not too_wide, too_wide
    # the six activations of the slides, in the output and in the numbers
    assert "published in the lecture's slides: a = 0.98, 0.12 → 0.86, 0.11 → 0.62, 0.83" in out
    assert "✓ the same to the 2 decimals printed" in out
    d = json.loads(j.read_text())
    ex = d["examples"][0]
    assert ex["x"] == [1.0, -1.0]
    assert [tuple(round(v, 2) for v in lay["a"]) for lay in ex["layers"]] == LECTURE_A
    assert [lay["z"] for lay in ex["layers"]][0] == [4.0, -2.0]  # z¹ = (1 + 2 + 1, −1 − 1 + 0) by hand
    assert "z¹₁ = 1·1 + (−2)·(−1) + 1 = 4" in out
    # the numbers are torch's: loss of x = (1, −1), t = (1, 0) and the gradient of the first weight
    net = lecture_torch()
    h = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    for w, b in net:
        h = torch.sigmoid(h @ w.T + b)
    loss = torch.nn.functional.mse_loss(h, torch.tensor([[1.0, 0.0]], dtype=torch.float64))
    loss.backward()
    assert f"L(θ⁰) = {loss.item():.4f}" in out
    g = net[0][0].grad[0, 0].item()
    row = next(line for line in out.splitlines() if line.strip().startswith("w¹₁₁") and "✓" in line)
    assert float(row.split()[3].replace("−", "-")) == pytest.approx(g, rel=1e-3)
    assert "All 18 gradients agree three ways" in out


def test_mazur_preset_reproduces_the_published_numbers(capsys, tmp_path):
    """Matt Mazur's "A Step by Step Backpropagation Example": every number below is copied from the post."""
    j = tmp_path / "m.json"
    rc, out, _ = explain(capsys, "--preset", "mazur", "--json", str(j))
    assert rc == 0 and "✓ the same to the 8–9 decimals printed" in out
    d = json.loads(j.read_text())
    ex = d["examples"][0]
    assert ex["layers"][0]["a"] == pytest.approx([0.593269992, 0.596884378], abs=1e-9)
    assert ex["layers"][1]["a"] == pytest.approx([0.75136507, 0.772928465], abs=1e-8)
    assert ex["loss"] == pytest.approx(0.298371109, abs=1e-9)  # E_total = Σ ½(t − o)²
    g2, g1 = d["total"]["layers"][1]["dl_dw"], d["total"]["layers"][0]["dl_dw"]
    assert g2[0][0] == pytest.approx(0.082167041, abs=1e-9)  # ∂E/∂w5
    assert g1[0][0] == pytest.approx(0.000438568, abs=1e-9)  # ∂E/∂w1
    new2, new1 = d["step"]["layers"][1]["weight"], d["step"]["layers"][0]["weight"]
    np.testing.assert_allclose(new2, [[0.35891648, 0.408666186], [0.511301270, 0.561370121]], atol=1e-8)  # w5..w8
    np.testing.assert_allclose(new1, [[0.149780716, 0.19956143], [0.24975114, 0.29950229]], atol=1e-8)  # w1..w4


def test_seed_gives_random_rounded_weights_and_presets_are_listed_in_help(capsys, tmp_path):
    j = tmp_path / "s.json"
    rc, out, _ = explain(capsys, "--seed", "3", "--json", str(j))
    assert rc == 0 and "published in" not in out
    d = json.loads(j.read_text())
    w = np.array(d["network"]["layers"][0]["weight"])
    assert w.shape == (2, 2) and (np.abs(w) <= 1).all() and np.array_equal(w, np.round(w, 2))
    assert w.tolist() != LECTURE[0][0]
    rc2, _, _ = explain(capsys, "--seed", "3", "--json", str(tmp_path / "s2.json"))
    assert json.loads((tmp_path / "s2.json").read_text())["network"] == d["network"]  # the seed fixes them
    with pytest.raises(SystemExit):
        main(["explain", "--help"])
    help_text = capsys.readouterr().out
    assert "--preset {lecture,mazur}" in help_text
    assert "lecture  the lecture's 2-2-2-2 sigmoid network" in help_text and "mazur    Matt Mazur's" in help_text


def test_network_options_without_a_preset_mean_random_weights(capsys, tmp_path):
    j = tmp_path / "r.json"
    rc, out, _ = explain(capsys, "--activation", "tanh", "--json", str(j), "--quiet")
    d = json.loads(j.read_text())
    assert rc == 0 and [ly["activation"] for ly in d["network"]["layers"]] == ["tanh"] * 3
    rc, out, err = explain(capsys, "--preset", "mazur", "--layers", "2,3,2")
    assert rc == 2 and "--preset mazur is a fixed sigmoid network" in err and "--seed N" in err


def test_chinese_switches_every_label(capsys):
    rc, out, _ = explain(capsys, "--lang", "zh")
    assert rc == 0
    for title in SECTIONS_ZH:
        assert title in out
    for english in ("The ", "Example", "Case ", "Layer ", "loss before", "gradients agree", "prediction"):
        assert english not in out, english
    assert all(width(line) <= 80 for line in out.splitlines())


def test_json_and_html_files(capsys, tmp_path):
    j, h = tmp_path / "e.json", tmp_path / "e.html"
    rc, out, _ = explain(capsys, "--activation", "tanh", "--loss", "cross_entropy", "--examples", "3",
                         "--layers", "3,4,3", "--json", str(j), "--html", str(h), "--lr", "0.1")
    assert rc == 0
    assert f"wrote {j}" in out and f"wrote {h}" in out
    d = json.loads(j.read_text(encoding="utf-8"))
    assert d["schema"] == "chainrule.explain/1" and d["loss"] == "cross_entropy" and d["lr"] == 0.1
    assert d["network"]["sizes"] == [3, 4, 3] and len(d["examples"]) == 3
    assert [ly["activation"] for ly in d["network"]["layers"]] == ["tanh", "identity"]
    assert "Several examples: L = Σₙ lⁿ" in out  # section 6 of the issue appears with N > 1
    page = h.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.count('class="neuron"') >= 2 * 7


def test_input_target_and_weights_file(capsys, tmp_path):
    spec = {"layers": [{"weight": [[0.5, -0.25]], "bias": [0.1], "activation": "relu"},
                       {"weight": [[2.0], [-1.0]], "bias": [0.0, 0.5]}]}
    f = tmp_path / "net.json"
    f.write_text(json.dumps(spec))
    j = tmp_path / "out.json"
    rc, out, _ = explain(capsys, "--weights", str(f), "--loss", "cross_entropy", "--input", "2,4;1,-2",
                         "--target", "1;0", "--json", str(j), "--plain")
    assert rc == 0
    d = json.loads(j.read_text())
    # z = 0.5·2 − 0.25·4 + 0.1 = 0.1 by hand; relu keeps it; logits (0.2, 0.4)
    assert d["examples"][0]["layers"][0]["z"] == pytest.approx([0.1])
    assert d["examples"][0]["layers"][1]["z"] == pytest.approx([0.2, 0.4])
    assert [ex["target_class"] for ex in d["examples"]] == [1, 0]
    assert "z¹₁ = 0.5·2 + (−0.25)·4 + 0.1 = 0.1" in out


def test_safetensors_weights(capsys, tmp_path):
    from safetensors.numpy import save_file

    rng = np.random.default_rng(1)
    f = tmp_path / "net.safetensors"
    save_file({"0.weight": rng.normal(size=(3, 2)).astype(np.float32), "0.bias": np.zeros(3, np.float32),
               "2.weight": rng.normal(size=(2, 3)).astype(np.float32), "2.bias": np.ones(2, np.float32)}, str(f))
    j = tmp_path / "out.json"
    rc, _, _ = explain(capsys, "--weights", str(f), "--json", str(j), "--quiet")
    d = json.loads(j.read_text())
    assert rc == 0 and d["network"]["sizes"] == [2, 3, 2]
    assert [ly["name"] for ly in d["network"]["layers"]] == ["0", "2"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from chainrule.train import train

    run = tmp_path_factory.mktemp("trained") / "run"
    train({"epochs": 1, "out": str(run), "layers": [64, 12, 10], "seed": 1})
    return run


def torch_per_example_grads(run, name: str):
    """|∂lⁿ/∂w| of one weight for every test example, one torch backward pass per example."""
    from chainrule.evaluate import load_run

    model, cfg, _, splits = load_run(run)
    x, y = splits[1]
    layers = [torch.nn.Linear(*model[k].weight.shape[::-1]).double() for k in (0, 2)]
    with torch.no_grad():
        for tl, k in zip(layers, (0, 2)):
            tl.weight.copy_(torch.tensor(model[k].weight.numpy()))
            tl.bias.copy_(torch.tensor(model[k].bias.numpy()))
    net = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1])
    k, idx = name.split(".weight")
    i, j = (int(v) for v in idx.strip("[]").split(","))
    grads = []
    for n in range(len(y.numpy())):
        net.zero_grad()
        out = net(torch.tensor(x.numpy()[n:n + 1], dtype=torch.float64))
        torch.nn.functional.cross_entropy(out, torch.tensor(y.numpy()[n:n + 1])).backward()
        grads.append(net[int(k)].weight.grad[i, j].item())
    return np.array(grads), x.numpy()


def test_a_weight_of_a_trained_run_is_shown_on_the_example_where_it_matters(capsys, tmp_path, trained_run):
    """A first-layer weight reading a pixel that is blank in the first test example has ∂l/∂w = 0 there;
    the default example is the one with the largest |∂l/∂w| (torch, example by example), drawn as an image."""
    g, x = torch_per_example_grads(trained_run, "0.weight[3,20]")
    assert (g == 0).any()  # the degenerate case exists in this run
    best = int(np.argmax(np.abs(g)))
    j, h = tmp_path / "w.json", tmp_path / "w.html"
    rc, out, _ = explain(capsys, "--checkpoint", str(trained_run), "--weight", "0.weight[3,20]", "--json", str(j),
                         "--html", str(h))
    d = json.loads(j.read_text())
    page = h.read_text(encoding="utf-8")  # the page draws the image too, the weight's pixel outlined
    assert page.count('<svg class="image"') == 1 and page.count("<title>pixel (") == 64
    assert '<rect class="mark" x="81" y="41"' in page  # row 2, column 4, 20 px per pixel
    walk = page[page.index('class="walk"'):]
    assert walk.count("·") < 200  # the walk shows the largest terms of a 64-term sum, not all of them
    assert rc == 0 and d["examples"][0]["x"] == x[best].tolist()
    assert f"test example #{best}" in out
    lay = d["examples"][0]["layers"][0]
    assert lay["dl_dw"][3][20] == pytest.approx(g[best], rel=1e-6) and abs(g[best]) > 0
    # the 8×8 input, pixel 20 = row 2, column 4 marked
    rows = [line.strip() for line in out.splitlines() if line.strip().startswith("│")]
    assert len(rows) == 8 and rows[2][1 + 2 * 4:1 + 2 * 4 + 2] == "<>"
    assert "updates every parameter of the network at once" in out
    # --example K picks that test example instead, even where the gradient is 0
    zero = int(np.nonzero(g == 0)[0][0])
    rc, out, _ = explain(capsys, "--checkpoint", str(trained_run), "--weight", "0.weight[3,20]",
                         "--example", str(zero), "--json", str(j))
    d = json.loads(j.read_text())
    assert rc == 0 and d["examples"][0]["x"] == x[zero].tolist() and d["examples"][0]["layers"][0]["dl_dw"][3][20] == 0
    # --examples 3: the three largest
    rc, out, _ = explain(capsys, "--checkpoint", str(trained_run), "--weight", "0.weight[3,20]", "--examples", "3",
                         "--json", str(j), "--quiet")
    want = np.argsort(-np.abs(g), kind="stable")[:3]
    assert [ex["x"] for ex in json.loads(j.read_text())["examples"]] == [x[k].tolist() for k in want]


@pytest.mark.parametrize("argv,msg", [
    (["--weight", "2.weight[3]"], "'2.weight[3]' gives 1 index but 2.weight has 2 dimensions (shape (10, 12)): "
                                  "write 2.weight[i,j]"),
    (["--weight", "2.bias[3,1]"], "'2.bias[3,1]' gives 2 indexes but 2.bias has 1 dimension (shape (10,))"),
    (["--weight", "2.weight[3,1]", "--example", "100000"], "--example 100000: the run's test split has examples 0"),
    (["--weight", "2.weight[3,1]", "--example", "x"], "--example 'x': expected test-example numbers"),
    (["--weight", "2.weight[3,1]", "--example", "1,2", "--examples", "3"], "--examples 3 but --example names 2"),
])
def test_bad_weight_or_example_of_a_run_is_one_line(capsys, trained_run, argv, msg):
    rc, out, err = explain(capsys, "--checkpoint", str(trained_run), *argv)
    assert rc == 2 and out == "" and err.count("\n") == 1 and msg in err, err


def test_one_weight_of_a_trained_run(capsys, tmp_path, trained_run):
    run = trained_run
    j = tmp_path / "w.json"
    rc, out, _ = explain(capsys, "--checkpoint", str(run), "--weight", "0.weight[3,20]", "--examples", "2",
                         "--json", str(j))
    assert rc == 0
    assert "64 → 12 → 10" in out and "w¹₄,₂₁" in out and "… and 2 more neurons" in out
    assert all(width(line) <= 80 for line in out.splitlines())
    d = json.loads(j.read_text())
    assert d["focus"]["name"] == "0.weight[3,20]" and len(d["examples"]) == 2 and d["agree"]
    lay = d["examples"][1]["layers"][0]
    assert lay["dl_dw_numeric"][3][20] == pytest.approx(lay["dl_dw_autograd"][3][20], abs=1e-7)


@pytest.mark.parametrize("argv,msg", [
    (["--layers", "2,x"], "--layers '2,x'"),
    (["--layers", "2"], "at least an input and an output"),
    (["--input", "1,2,3"], "3 values per example but the network takes 2"),
    (["--input", "1,a"], "expected numbers"),
    (["--target", "1,0;0,1"], "--target gives 2 example(s)"),
    (["--loss", "cross_entropy", "--target", "5"], "class indices must be integers in [0, 1]"),
    (["--weights", "/nonexistent.json"], "does not exist"),
    (["--weight", "4.weight[7,0]"], "outside 4.weight of shape (2, 2)"),
    (["--checkpoint", "/nonexistent-run"], "needs --weight"),
    (["--checkpoint", "/nonexistent-run", "--weight", "0.weight[0,0]"], "no checkpoint here"),
    (["--examples", "0"], "need at least 1"),
    (["--checkpoint", "/nonexistent-run", "--weight", "0.weight[0,0]", "--examples", "0"], "need at least 1"),
    (["--lr", "-1"], "must be positive"),
    (["--lr", "nan"], "must be positive"),
    (["--lr", "inf"], "must be positive"),
    (["--example", "3"], "--example K picks test examples of a --checkpoint run"),
])
def test_bad_options_exit_2_with_one_line(capsys, argv, msg):
    rc, out, err = explain(capsys, *argv)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("chainrule explain: error:"), err
    assert msg in err, err


@pytest.mark.parametrize("argv,msg", [
    (["--activation", "softplus"], "invalid choice"),
    (["--lang", "fr"], "invalid choice"),
    (["--weights", "x.json", "--seed", "3"], "not allowed with argument"),
    (["--preset", "lecture", "--seed", "3"], "not allowed with argument"),
    (["--preset", "hinton"], "invalid choice"),
])
def test_argparse_rejects_bad_choices_with_exit_2(capsys, argv, msg):
    with pytest.raises(SystemExit) as e:
        main(["explain", *argv])
    assert e.value.code == 2 and msg in capsys.readouterr().err


def test_one_weight_of_a_trained_mse_run_uses_one_hot_targets(capsys, tmp_path):
    from chainrule.train import TrainConfig, load_dataset, train

    run = tmp_path / "run"
    train({"epochs": 1, "out": str(run), "layers": [64, 12, 10], "loss": "mse"})
    j = tmp_path / "w.json"
    rc, _, _ = explain(capsys, "--checkpoint", str(run), "--weight", "2.weight[3,5]", "--example", "0,1",
                       "--json", str(j), "--quiet")
    d = json.loads(j.read_text())
    x, y = load_dataset(TrainConfig())[1]  # the run's test split
    assert rc == 0 and d["loss"] == "mse" and d["agree"]
    for n, ex in enumerate(d["examples"]):
        assert ex["x"] == x.numpy()[n].tolist()
        assert ex["target"] == [1.0 if c == int(y.numpy()[n]) else 0.0 for c in range(10)]


@pytest.mark.parametrize("layers, msg", [
    ([{"weight": [[1, 2], [3]], "bias": [0, 0]}], "layer 0 weight is not a rectangular array of numbers"),
    ([{"weight": [[1, 2], [3, 4]], "bias": "x"}], "layer 0 bias is not a rectangular array of numbers"),
    ([1], "layer 0 has no 'weight'"),
    ([{"weight": [[1e400, 2], [3, 4]], "bias": [0, 0]}], "the 0.weight holds NaN or inf"),
], ids=["ragged", "string", "not-a-dict", "inf"])
def test_bad_weights_file_is_one_line(capsys, tmp_path, layers, msg):
    p = tmp_path / "w.json"
    p.write_text(json.dumps({"layers": layers}).replace("Infinity", "1e400"))
    rc, out, err = explain(capsys, "--weights", str(p))
    assert rc == 2 and out == "" and err.count("\n") == 1 and msg in err, err


@pytest.mark.parametrize("argv", [["--input", "nan,1"], ["--target", "inf,0"]])
def test_non_finite_examples_are_refused_not_declared_in_agreement(capsys, argv):
    """NaN marks a value the checks did not compute, so NaN data used to pass every check."""
    rc, out, err = explain(capsys, *argv)
    assert rc == 2 and out == "" and "holds NaN or inf" in err, err


def test_bfloat16_weights_file_is_one_line(capsys, tmp_path):
    import torch
    from safetensors.torch import save_file

    p = tmp_path / "w.safetensors"
    save_file({"0.weight": torch.ones(2, 2, dtype=torch.bfloat16)}, str(p))
    rc, out, err = explain(capsys, "--weights", str(p))
    assert rc == 2 and err.count("\n") == 1 and "holds BF16 tensors" in err, err
