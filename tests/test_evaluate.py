"""chainrule evaluate: the metrics themselves, and the command on a real run."""
from __future__ import annotations

import re

import numpy as np
import pytest

from chainrule import cli
from chainrule.evaluate import confusion_matrix, per_class, report
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
    assert re.search(r"^\s+1\s+50\.00%\s+50\.00%\s+2$", text, re.M)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "r"
    train(TrainConfig(epochs=3, layers=[64, 32, 10], out=str(out)))
    return out


def _independent_accuracy(run_dir, split):
    """The run's accuracy computed by PyTorch from the saved weights, not by chainrule's model."""
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    w = st.load_file(str(run_dir / "model.safetensors"))
    train_set, test_set = load_dataset(TrainConfig())
    x, y = test_set if split == "test" else train_set
    h = torch.relu(torch.from_numpy(x.numpy()) @ w["0.weight"].T + w["0.bias"])
    pred = (h @ w["2.weight"].T + w["2.bias"]).argmax(1).numpy()
    return (pred == y.numpy()).mean(), confusion_matrix(y.numpy(), pred, 10)


@pytest.mark.parametrize("split", ["test", "train"])
def test_evaluate_prints_the_right_accuracy_and_matrix(run_dir, capsys, split):
    assert cli.main(["evaluate", str(run_dir), "--split", split]) == 0
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
    assert (run_dir / "confusion-test.png").read_bytes()[:4] == b"\x89PNG"


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
