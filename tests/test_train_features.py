"""Validation split, best checkpoint, early stopping, summaries, the CNN, curves, and the user's own data."""
from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli, runs
from chainrule.train import TrainConfig, best_row, build_network, load_splits, predict, train


def _main(argv) -> int:
    try:
        return cli.main(argv)
    except SystemExit as e:
        return e.code


def _metrics(run):
    return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(open(run / "metrics.csv"))]


# ------------------------------------------------------------ validation, best checkpoint, early stopping
def test_best_checkpoint_holds_the_best_validation_epoch(tmp_path):
    res = train(TrainConfig(layers=[64, 8, 10], epochs=6, lr=0.02, out=str(tmp_path)))
    rows = _metrics(tmp_path)
    best = max(rows, key=lambda r: (r["val_acc"], -r["val_loss"], -r["epoch"]))
    state, info = runs.read_model(tmp_path / "best.safetensors")
    assert info["epoch"] == int(best["epoch"]) == res.best["epoch"]
    model, _ = build_network(res.config, load_splits(res.config))
    model.load_state_dict(state)
    val = load_splits(res.config).val
    acc = float((predict(model, val.images).argmax(1) == val.labels.numpy()).mean())
    assert acc == pytest.approx(best["val_acc"])


def test_early_stopping_stops_after_patience_epochs_without_improvement(tmp_path, capsys):
    out = tmp_path / "run"
    assert _main(["train", "--layers", "64,8,10", "--epochs", "60", "--early-stopping", "2", "--lr", "0.02",
                  "--out", str(out)]) == 0
    text = capsys.readouterr().out
    rows = _metrics(out)
    assert len(rows) < 60
    val = [r["val_acc"] for r in rows]
    best_epoch = int(max(rows, key=lambda r: (r["val_acc"], -r["val_loss"], -r["epoch"]))["epoch"])
    assert len(rows) == best_epoch + 2  # two epochs after the best, none better
    assert max(val[-2:]) <= val[best_epoch - 1]
    assert "early stopping: no better validation accuracy for 2 epochs" in text
    assert f"best epoch     {best_epoch} of {len(rows)}" in text and "stopped early" in text
    assert _main(["train", "--resume", str(out), "-q"]) == 0
    assert "nothing to do: it stopped early" in capsys.readouterr().out
    assert len(_metrics(out)) == len(rows)


def test_final_summary_figures(tmp_path, capsys):
    out = tmp_path / "run"
    assert _main(["train", "--epochs", "3", "--out", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    rows = _metrics(out)
    best = max(rows, key=lambda r: (r["val_acc"], -r["val_loss"], -r["epoch"]))
    assert "parameters     9,610" in text  # 64*128 + 128 + 128*10 + 10
    assert f"best epoch     {int(best['epoch'])} of 3 (validation accuracy {100 * best['val_acc']:.2f}%)" in text
    assert (f"test accuracy  {100 * best['test_acc']:.2f}% at the best epoch (best.safetensors), "
            f"{100 * rows[-1]['test_acc']:.2f}% at the last") in text
    line = next(s for s in text.splitlines() if s.startswith("wall time"))
    rate = float(line.split(", ")[1].split()[0].replace(",", ""))
    assert rate == pytest.approx(1294 * 3 / sum(r["seconds"] for r in rows), rel=0.02)


def test_no_validation_split_when_val_fraction_is_0(tmp_path, capsys):
    assert _main(["train", "--layers", "64,8,10", "--epochs", "1", "--val-fraction", "0", "--out",
                  str(tmp_path / "r"), "-q"]) == 0
    text = capsys.readouterr().out
    assert "best epoch" not in text and "test accuracy" in text
    assert not (tmp_path / "r" / "best.safetensors").exists()
    assert len(load_splits(TrainConfig(val_fraction=0)).train.labels) == 1438


def test_train_accuracy_and_loss_are_measured_the_same_way():
    """Both at the end of the epoch on the whole training split, in eval mode."""
    res = train(TrainConfig(layers=[64, 8, 10], epochs=2))
    train_set = load_splits(res.config).train
    out = predict(res.model, train_set.images)
    y = train_set.labels.numpy()
    logp = out - out.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    assert res.history[-1]["train_loss"] == pytest.approx(-logp[np.arange(len(y)), y].mean(), rel=1e-5)
    assert res.history[-1]["train_acc"] == pytest.approx((out.argmax(1) == y).mean())


# ------------------------------------------------------------ model summary
def test_model_summary_matches_pytorch_shapes_and_parameter_counts():
    torch = pytest.importorskip("torch")
    from chainrule.summary import layer_table, summary
    from chainrule.train import build_cnn

    model = build_cnn((1, 8, 8), [4, 6], "relu", 10)
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                             torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                             torch.nn.Flatten(), torch.nn.Linear(24, 10))
    shapes = []
    for m in tm:
        m.register_forward_hook(lambda mod, a, o: shapes.append(tuple(o.shape[1:])))
    tm(torch.zeros(1, 1, 8, 8))
    rows = layer_table(model, (1, 8, 8))
    assert [r[1] for r in rows] == [type(m).__name__ for m in tm]
    assert [r[2][1:] for r in rows] == shapes and all(r[2][0] == "N" for r in rows)
    assert [r[3] for r in rows] == [sum(p.numel() for p in m.parameters()) for m in tm]
    text = summary(model, (1, 8, 8))
    total = sum(p.numel() for p in tm.parameters())
    assert f"total parameters {total:,} (trainable {total:,})" in text and "(N, 6, 2, 2)" in text


def test_train_prints_the_model_summary_first(tmp_path, capsys):
    assert _main(["train", "--layers", "64,8,10", "--epochs", "1", "--out", str(tmp_path / "r")]) == 0
    text = capsys.readouterr().out
    assert text.index("total parameters 610") < text.index("epoch 1/1")
    assert "0      Linear  (N, 8)" in text


# ------------------------------------------------------------ CNN
def test_default_cnn_reaches_98_5_percent_on_the_digits(tmp_path):
    out = tmp_path / "cnn"
    assert _main(["train", "--model", "cnn", "--out", str(out), "-q"]) == 0
    assert _metrics(out)[-1]["test_acc"] >= 0.985
    state = cr.load(out / "model.safetensors")
    assert state["0.weight"].shape == (32, 1, 3, 3) and state["7.weight"].shape == (10, 64 * 2 * 2)


def test_cnn_checkpoint_runs_in_pytorch_with_the_same_outputs(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    res = train(TrainConfig(model="cnn", channels=[4, 8], epochs=1, out=str(tmp_path)))
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                             torch.nn.Conv2d(4, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                             torch.nn.Flatten(), torch.nn.Linear(32, 10))
    tm.load_state_dict(st.load_file(str(tmp_path / "model.safetensors")))
    x = load_splits(res.config).test.images.numpy()
    assert x.shape[1:] == (1, 8, 8)
    with torch.no_grad():
        ref = tm(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(predict(res.model, x), ref, rtol=1e-4, atol=1e-5)


def test_cnn_on_mnist_sees_1x28x28_images(tmp_path):
    from test_train_options import _fake_mnist

    _fake_mnist(tmp_path / "mnist")
    res = train(TrainConfig(model="cnn", dataset="mnist", data_dir=str(tmp_path / "mnist"), channels=[2, 4],
                            epochs=1, val_fraction=0))
    assert load_splits(res.config).train.images.shape[1:] == (1, 28, 28)
    assert res.model[0].weight.shape == (2, 1, 3, 3) and res.model[7].weight.shape == (10, 4 * 7 * 7)


@pytest.mark.parametrize("values, msg", [
    ({"model": "cnn", "channels": [4, 4, 4, 4]}, "4 poolings by 2 leave nothing of a 8x8 image"),
])
def test_cnn_bad_settings(values, msg):
    with pytest.raises(cr.ChainruleError, match=msg):
        train(TrainConfig(epochs=1, **values))


# ------------------------------------------------------------ curves
def test_curves_panels_title_and_axes():
    pytest.importorskip("matplotlib")
    from chainrule.curves import figure, title

    cfg = dataclasses.replace(TrainConfig(layers=[64, 128, 10]), epochs=1)
    row = {"epoch": 1, "lr": 0.003, "train_loss": 0.01, "train_acc": 1.0, "val_loss": 0.02, "val_acc": 1.0,
           "test_loss": 0.03, "test_acc": 1.0, "seconds": 0.1}
    fig = figure([row], cfg)
    loss, acc, lr = fig.axes
    assert [a.get_title() for a in fig.axes] == ["loss", "accuracy", "learning rate (per epoch)"]
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        assert lo < 1 < hi and hi - lo <= 1.5  # one epoch: a point in the middle, not at an edge
        assert list(ax.get_xticks()[(ax.get_xticks() >= lo) & (ax.get_xticks() <= hi)]) == [1]
    lo, hi = acc.get_ylim()
    assert 100 < hi < 101 and lo < 100  # 100% is visible inside the frame
    assert max(acc.get_yticks()) == pytest.approx(100)  # 100% is labelled, nothing above it
    assert lr.get_ylim()[0] == 0 and lr.get_ylim()[1] > 0.003
    assert "train (end of epoch)" in [t.get_text() for t in loss.get_legend().get_texts()]
    t = fig._suptitle.get_text()
    assert t == title(cfg) == "digits, MLP 64-128-10 relu, adam lr=0.003, cosine schedule over 1 epoch"
    assert "  " not in t
    import matplotlib.pyplot as plt

    plt.close(fig)


# ------------------------------------------------------------ the user's own data
def _blobs(n=300, k=3, d=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    x = rng.normal(0, 0.3, (n, d)) + np.eye(k, d)[y] * 2
    return x.astype(np.float32), y


def test_train_on_an_npz_file(tmp_path):
    x, y = _blobs()
    np.savez(tmp_path / "d.npz", x=x, y=y)
    res = train(TrainConfig(data=str(tmp_path / "d.npz"), dataset="file", epochs=5, out=str(tmp_path / "r")))
    assert res.model[0].weight.shape == (128, 4) and res.model[2].weight.shape == (3, 128)
    assert res.history[-1]["test_acc"] > 0.9
    assert _main(["evaluate", str(tmp_path / "r"), "-q"]) == 0


def test_train_on_a_csv_file_through_the_command_line(tmp_path, capsys):
    x, y = _blobs()
    lines = ["a,b,label,c,d"] + [f"{r[0]},{r[1]},{t},{r[2]},{r[3]}" for r, t in zip(x, y)]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    assert _main(["train", "--data", str(tmp_path / "d.csv"), "--target", "label", "--epochs", "5",
                  "--out", str(tmp_path / "r"), "-q"]) == 0
    assert _metrics(tmp_path / "r")[-1]["test_acc"] > 0.9
    splits = load_splits(TrainConfig(data=str(tmp_path / "d.csv"), dataset="file", target="label"))
    # the label column is left out of the inputs, the other columns keep their order
    row = splits.test.images.numpy()[0]
    assert any(np.allclose(row, r[[0, 1, 2, 3]]) for r in x)


@pytest.mark.parametrize("text, msg", [
    ("a,b,label\n1,2,0\n3,4\n", "d.csv: line 3 has 2 cells, the header has 3"),
    ("a,b,label\n1,2,0\n3,x,1\n", "d.csv: line 3, column 'b': 'x' is not a finite number"),
    ("a,b,label\n1,2,0\n3,4,1.5\n", "d.csv: line 3, column 'label': '1.5' is not an integer class label"),
    ("a,b,label\n1,2,0\n3,4,cat\n", "'cat' is not an integer class label"),
    ("a,b,label\n1,2,-1\n", "line 2, column 'label': -1 is negative"),
    ("a,b,y\n1,2,0\n", "no column 'label' for --target; the header has a, b, y"),
    ("", "empty CSV file"),
])
def test_bad_csv_files_are_one_line(tmp_path, capsys, text, msg):
    (tmp_path / "d.csv").write_text(text)
    assert _main(["train", "--data", str(tmp_path / "d.csv"), "--target", "label", "--out", str(tmp_path / "r"),
                  "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("chainrule train: error: ") and msg in err, err


@pytest.mark.parametrize("arrays, msg", [
    ({"x": np.zeros((4, 2))}, "needs arrays named x (inputs) and y (labels); it has x"),
    ({"x": np.zeros((4, 2)), "y": np.array([0, 1, 2.5, 1])}, "y[2] is 2.5; labels must be integer class indices"),
    ({"x": np.zeros((4, 2)), "y": np.array(["a", "b", "c", "d"])}, "y must be integer class indices"),
    ({"x": np.zeros((4, 2)), "y": np.zeros(3, int)}, "y must be one label per example, shape (4,), got (3,)"),
    ({"x": np.array([[0, np.nan]] * 4), "y": np.zeros(4, int)}, "x[0, 1] is nan"),
    ({"x": np.zeros(4), "y": np.zeros(4, int)}, "x must have one row per example"),
    ({"x": np.array([["a", "b"]] * 4), "y": np.zeros(4, int)}, "x must be numbers"),
])
def test_bad_npz_files_are_one_line(tmp_path, capsys, arrays, msg):
    np.savez(tmp_path / "d.npz", **arrays)
    assert _main(["train", "--data", str(tmp_path / "d.npz"), "--out", str(tmp_path / "r"), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "d.npz" in err and msg in err, err


def test_unknown_data_format_and_missing_file(tmp_path, capsys):
    (tmp_path / "d.txt").write_text("1 2 3\n")
    for path, msg in ((tmp_path / "d.txt", "unknown data format '.txt'"), (tmp_path / "no.npz", "not found")):
        assert _main(["train", "--data", str(path), "--out", str(tmp_path / "r"), "-q"]) == 2
        assert msg in capsys.readouterr().err


def test_best_row_prefers_accuracy_then_loss_then_the_earlier_epoch():
    rows = [{"epoch": 1, "val_acc": 0.9, "val_loss": 0.3}, {"epoch": 2, "val_acc": 0.95, "val_loss": 0.2},
            {"epoch": 3, "val_acc": 0.95, "val_loss": 0.1}, {"epoch": 4, "val_acc": 0.95, "val_loss": 0.1}]
    assert best_row(rows)["epoch"] == 3
    assert best_row([{"epoch": 1, "val_acc": float("nan"), "val_loss": float("nan")}]) is None
