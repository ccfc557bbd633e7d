"""chainrule evaluate: the metrics themselves, and the command on a real run."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from chainrule import cli
from chainrule.evaluate import (
    cell_colours,
    classification_report,
    confusion_matrix,
    most_confident_errors,
    per_class,
    report,
    scores,
)
from chainrule.train import TrainConfig, load_dataset, train


def test_confusion_matrix_and_precision_recall_by_hand():
    labels = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 2, 2])
    cm = confusion_matrix(labels, predicted, 4)
    assert cm.tolist() == [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    precision, recall = per_class(cm)
    np.testing.assert_allclose(precision, [1.0, 0.5, 0.5, 0.0])  # class 3 never predicted: 0, not NaN
    np.testing.assert_allclose(recall, [2 / 3, 0.5, 1.0, 0.0])
    text = report(cm)
    assert text.startswith("accuracy 66.67% (4/6)")


def _random_predictions(seed, n=300, k=10):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    predicted = np.where(rng.random(n) < 0.7, labels, rng.integers(0, k, n))
    predicted[predicted == k - 1] = 0  # one class never predicted: precision 0 by scikit-learn's zero_division=0
    return labels, predicted


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_report_is_scikit_learns_classification_report(seed):
    metrics = pytest.importorskip("sklearn.metrics")
    labels, predicted = _random_predictions(seed)
    cm = confusion_matrix(labels, predicted, 10)
    expected = metrics.classification_report(labels, predicted, labels=range(10), digits=2, zero_division=0)
    assert classification_report(cm) == expected
    ref = metrics.classification_report(labels, predicted, labels=range(10), output_dict=True, zero_division=0)
    got = scores(cm)
    for avg in ("macro avg", "weighted avg"):
        for key in ("precision", "recall", "f1-score", "support"):
            assert got[avg][key] == pytest.approx(ref[avg][key], abs=1e-12), (avg, key)
    for c in range(10):
        for key in ("precision", "recall", "f1-score", "support"):
            assert got["classes"][str(c)][key] == pytest.approx(ref[str(c)][key], abs=1e-12)
    assert got["accuracy"] == pytest.approx(ref["accuracy"])


def test_error_cells_stand_out_and_empty_cells_are_white():
    cm = np.diag([300, 280, 290]).astype(np.int64)
    cm[0, 1], cm[2, 0] = 1, 40  # one single mistake among hundreds of hits, and a big one
    rgba, _, _ = cell_colours(cm)
    lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
    assert (rgba[1, 0] == 1).all() and (rgba[0, 2] == 1).all()  # no examples: white
    assert lum[0, 1] < 0.85  # the 1-count error is clearly coloured, not near white
    assert rgba[0, 1, 0] > rgba[0, 1, 2] + 0.1  # and red, not the blue of the correct cells
    assert rgba[0, 0, 2] > rgba[0, 0, 0]  # hits are blue
    assert lum[2, 0] < lum[0, 1]  # more errors, darker


def test_most_confident_errors_come_first():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.05, 0.95], [0.3, 0.7]])
    labels = np.array([1, 1, 1, 0, 0])  # wrong: 0 (0.9), 2 (0.6), 3 (0.95), 4 (0.7)
    assert most_confident_errors(probs, labels).tolist() == [3, 0, 4, 2]
    assert most_confident_errors(probs, labels, n=2).tolist() == [3, 0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "r"
    train(TrainConfig(epochs=3, layers=[64, 32, 10], out=str(out)))
    return out


def _independent_accuracy(run_dir, split, with_predictions=False):
    """The run's accuracy computed by PyTorch from the saved weights, not by chainrule's model."""
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    w = st.load_file(str(run_dir / "model.safetensors"))
    train_set, test_set = load_dataset(TrainConfig())
    x, y = test_set if split == "test" else train_set
    h = torch.relu(torch.from_numpy(x.numpy()) @ w["0.weight"].T + w["0.bias"])
    pred = (h @ w["2.weight"].T + w["2.bias"]).argmax(1).numpy()
    out = (pred == y.numpy()).mean(), confusion_matrix(y.numpy(), pred, 10)
    return (*out, y.numpy(), pred) if with_predictions else out


@pytest.mark.parametrize("split", ["test", "train"])
def test_evaluate_prints_the_right_accuracy_and_matrix(run_dir, capsys, split):
    assert cli.main(["evaluate", str(run_dir), "--split", split, "--checkpoint", "last"]) == 0
    out = capsys.readouterr().out
    acc, cm = _independent_accuracy(run_dir, split)
    m = re.search(r"accuracy (\d+\.\d\d)% \((\d+)/(\d+)\)", out)
    assert int(m.group(2)) == np.trace(cm) and int(m.group(3)) == cm.sum()
    assert float(m.group(1)) == pytest.approx(100 * acc, abs=0.006)
    rows = [line for line in out.splitlines() if re.match(r"^\s+\d [\s\d.]+$", line)]
    matrix = [[0 if v == "." else int(v) for v in r.split()[1:]] for r in rows[-10:]]
    assert matrix == cm.tolist()
    assert "precision" in out and "recall" in out


def test_evaluate_on_the_checkpoint_file_and_plot(run_dir, capsys, tmp_path):
    png = tmp_path / "cm.png"
    assert cli.main(["evaluate", str(run_dir / "model.safetensors"), "--plot-file", str(png)]) == 0
    assert f"wrote {png}" in capsys.readouterr().out
    import matplotlib.image

    img = matplotlib.image.imread(png)
    assert img.shape[0] > 200 and img[..., :3].std() > 0.05
    assert cli.main(["evaluate", str(run_dir), "--plot"]) == 0
    out = capsys.readouterr().out
    assert (run_dir / "confusion-test.png").read_bytes()[:4] == b"\x89PNG"
    big = matplotlib.image.imread(run_dir / "confusion-test.png")
    assert big.shape[0] >= 800 and big.shape[1] >= 900  # larger than the old 550x650 picture
    grid = matplotlib.image.imread(run_dir / "misclassified-test.png")
    assert grid.shape[0] > 200 and grid[..., :3].std() > 0.05 and "misclassified-test.png" in out


def test_evaluate_json_matches_scikit_learn_on_torch_predictions(run_dir, capsys, tmp_path):
    metrics = pytest.importorskip("sklearn.metrics")
    assert cli.main(["evaluate", str(run_dir), "--checkpoint", "last", "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)  # nothing but the JSON on stdout
    acc, cm, labels, pred = _independent_accuracy(run_dir, "test", with_predictions=True)
    assert doc["confusion_matrix"] == cm.tolist() and doc["accuracy"] == pytest.approx(acc)
    ref = metrics.classification_report(labels, pred, output_dict=True, zero_division=0)
    assert doc["macro avg"]["f1-score"] == pytest.approx(ref["macro avg"]["f1-score"])
    assert doc["weighted avg"]["recall"] == pytest.approx(ref["weighted avg"]["recall"])
    f = tmp_path / "e.json"
    assert cli.main(["evaluate", str(run_dir), "--checkpoint", "last", "--json", str(f), "-q"]) == 0
    out = capsys.readouterr().out
    assert json.loads(f.read_text()) == doc and "precision" not in out and out.count("accuracy") == 1


def test_evaluate_uses_the_best_checkpoint_by_default(run_dir, capsys):
    from chainrule import runs

    best_epoch = runs.read_model(run_dir / "best.safetensors")[1]["epoch"]
    assert cli.main(["evaluate", str(run_dir)]) == 0
    assert f"best.safetensors (epoch {best_epoch})" in capsys.readouterr().out
    assert cli.main(["evaluate", str(run_dir), "--checkpoint", "last"]) == 0
    assert "model.safetensors (epoch 3)" in capsys.readouterr().out


def test_evaluate_missing_or_foreign_checkpoint(tmp_path, capsys):
    assert cli.main(["evaluate", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nothing" in err and "no checkpoint" in err
    import chainrule as cr

    cr.save({"w": cr.ones(2)}, tmp_path / "plain.safetensors")
    assert cli.main(["evaluate", str(tmp_path / "plain.safetensors")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no training config" in err


def _doctored(run_dir, folder, drop=None, **config):
    """A copy of the run's checkpoint with some config values replaced (or a tensor dropped)."""
    import json

    import chainrule as cr
    from chainrule.io import load_metadata

    src = run_dir / "model.safetensors"
    tensors, meta = cr.load(src), load_metadata(src)
    if drop:
        del tensors[drop]
    if config:
        meta["config"] = config.pop("raw", None) or json.dumps({**json.loads(meta["config"]), **config})
    folder.mkdir()
    cr.save(tensors, folder / "model.safetensors", metadata=meta)
    return folder


@pytest.mark.parametrize("change, msg", [
    ({"layers": [64, 16, 10]}, r"safetensors: the weights do not fit .* 0\.weight \(32, 64\) \(config: \(16, 64\)\)"),
    ({"drop": "2.bias"}, r"model\.safetensors: the weights do not fit .* missing 2\.bias"),
    ({"raw": "[1, 2]"}, r"model\.safetensors \(metadata\) config: expected an object, got list"),
    ({"activation": "swish"}, r"\(saved config\): unknown activation 'swish'"),
], ids=["layers", "missing", "config-not-object", "activation"])
def test_evaluate_inconsistent_checkpoint_is_one_line(run_dir, tmp_path, capsys, change, msg):
    folder = _doctored(run_dir, tmp_path / "bad", **change)
    assert cli.main(["evaluate", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("chainrule evaluate: error: "), err
    assert re.search(msg, err), err


def test_evaluate_unwritable_plot_is_one_line(run_dir, tmp_path, capsys):
    png = tmp_path / "no-such-folder" / "cm.png"
    assert cli.main(["evaluate", str(run_dir), "--plot-file", str(png)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"chainrule evaluate: error: cannot write {png}: No such file or directory"
