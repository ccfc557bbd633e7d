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


def lecture_torch():
    """The default network rebuilt in torch from its documented recipe (seed 0, U(−1, 1), 2 decimals)."""
    rng = np.random.default_rng(0)
    net = []
    for n_in, n_out in ((2, 2), (2, 2), (2, 2)):
        w = np.round(rng.uniform(-1, 1, size=(n_out, n_in)), 2)
        b = np.round(rng.uniform(-1, 1, size=n_out), 2)
        net.append((torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)))
    return net


def test_default_is_the_lecture_setting_and_fits_80_columns(capsys):
    rc, out, err = explain(capsys)
    assert rc == 0 and err == ""
    assert "\x1b[" not in out  # not a TTY: no colour
    for title in SECTIONS_EN:
        assert title in out
    assert "2 → 2 → 2 → 2" in out and "sigmoid, sigmoid, sigmoid" in out
    assert "Case 1, output layer 3" in out and "Case 2, hidden layer 2" in out and "Case 2, hidden layer 1" in out
    too_wide = [line for line in out.splitlines() if width(line) > 80]
    assert not too_wide, too_wide
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


def test_one_weight_of_a_trained_run(capsys, tmp_path):
    from chainrule.train import train

    run = tmp_path / "run"
    train({"epochs": 1, "out": str(run), "layers": [64, 12, 10], "seed": 1})
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
    rc, _, _ = explain(capsys, "--checkpoint", str(run), "--weight", "2.weight[3,5]", "--examples", "2",
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
